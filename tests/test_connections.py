"""How the app connects (issue #8, part 6): a profile's `sslmode` reaches the driver, and with
`prepare_threshold = "none"` the app works through a transaction pooler (PgBouncer in
transaction mode, as Supabase's port 6543) without leaking per-transaction settings to the
pooler's other clients."""

from __future__ import annotations

import dataclasses
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest

from adminui.config import parse_config
from adminui.db import CancelledError, Database
from adminui.errors import DatabaseError
from adminui.ops import credits, executions, orphans, payments, users
from tests.conftest import needle, run, scalar
from tests.pg_cluster import PG_PASSWORD, PgServer
from tests.pgbouncer import POOL_SIZE, Pooler, PoolerUnavailable, start_pooler
from tests.test_faults import sleeping, slow_registry

# More runs of each statement than psycopg's default prepare_threshold (5): from the sixth on,
# psycopg would use a server-side prepared statement that only one server connection knows.
ROUNDS = 8


def write_config(path: Path, url: str, **options: object) -> Path:
    """A config file with one profile `p` (booleans and strings written as TOML)."""
    lines = ["[profiles.p]", f'url = "{url}"']
    for key, value in options.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path


# --- sslmode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_an_sslmode_the_server_cannot_meet_is_one_sentence(
    pg_server: PgServer, pg_db: Database, tmp_path: Path, capsys, monkeypatch, mode: str
) -> None:
    """The test cluster has no SSL: a profile that demands it must fail at connect, told in one
    line that names the setting, which proves sslmode reaches libpq."""
    monkeypatch.setenv("ADMINUI_PASSWORD", PG_PASSWORD)
    config = write_config(
        tmp_path / "c.toml",
        pg_server.url(pg_db.profile.url.database, password=False),
        sslmode=mode,
    )
    code, out, err = run(capsys, "users", "find", "example", "--config", str(config))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "does not support SSL" in err and f"sslmode = {mode}" in err, err


def test_an_sslmode_in_a_url_is_honoured_and_named(
    pg_server: PgServer, pg_db: Database, capsys
) -> None:
    """`--url ...?sslmode=require` reaches libpq as well, and the sentence names it."""
    url = pg_server.url(pg_db.profile.url.database) + "?sslmode=require"
    code, out, err = run(capsys, "users", "find", "example", "--url", url)
    assert (code, out) == (2, "")
    assert "does not support SSL" in err and "sslmode = require" in err, err
    assert PG_PASSWORD not in err


def test_sslmode_disable_connects(
    pg_server: PgServer, pg_db: Database, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The same server and profile with SSL turned off works: the refusal above was SSL's."""
    monkeypatch.setenv("ADMINUI_PASSWORD", PG_PASSWORD)
    config = write_config(
        tmp_path / "c.toml",
        pg_server.url(pg_db.profile.url.database, password=False),
        sslmode="disable",
    )
    code, out, _ = run(
        capsys, "users", "find", "example", "--config", str(config), "--format", "json"
    )
    assert code == 0 and "@" in out


def test_a_misspelt_sslmode_is_refused_by_name(tmp_path: Path, capsys) -> None:
    """A typo ('required') is refused when the file is read, naming the key and the choices,
    not later as a driver error about a 'bad connection'."""
    config = write_config(
        tmp_path / "c.toml", "postgresql://admin@127.0.0.1:1/app", sslmode="required"
    )
    code, _, err = run(capsys, "users", "find", "example", "--config", str(config))
    assert code == 2 and "sslmode must be one of" in err and "'required'" in err


# --- a transaction pooler ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pooler(pg_server: PgServer) -> Iterator[Pooler]:
    """PgBouncer in transaction mode in front of the test cluster (skipped if unavailable)."""
    try:
        with start_pooler(pg_server) as running:
            yield running
    except PoolerUnavailable as error:
        pytest.skip(f"no transaction pooler to test against: {error}")


def raw_pooled(pooler: Pooler, database: str) -> psycopg.Connection:
    """A plain client of the pooler (another tenant of its server connections)."""
    return psycopg.connect(
        host=pooler.host,
        port=pooler.port,
        user="postgres",
        password=PG_PASSWORD,
        dbname=database,
        prepare_threshold=None,
    )


def hold_every_server_connection(pooler: Pooler, database: str) -> list[tuple[object, ...]]:
    """Open POOL_SIZE clients, each inside a transaction at once, so between them they hold
    every server connection the pooler has for `database`; each one's settings."""
    with ExitStack() as stack:
        clients = [stack.enter_context(raw_pooled(pooler, database)) for _ in range(POOL_SIZE)]
        return [
            client.execute(
                "SELECT pg_backend_pid(), current_setting('transaction_read_only'), "
                "current_setting('default_transaction_read_only'), "
                "current_setting('statement_timeout'), current_setting('plan_cache_mode'), "
                "current_setting('jit'), current_setting('search_path')"
            ).fetchone()
            for client in clients
        ]


def pooled_db(pooler: Pooler, pg_db: Database, tmp_path: Path, **options: object) -> Database:
    """The app's Database through the pooler, its profile read from a config file."""
    config = write_config(
        tmp_path / "pooled.toml",
        pooler.url(pg_db.profile.url.database, password=False),
        statement_timeout_ms=5000,
        **options,
    )
    profile = parse_config(tomllib.loads(config.read_text()), config).profile("p")
    return Database(profile, PG_PASSWORD)


def test_reads_and_grants_work_through_a_transaction_pooler(
    pooler: Pooler, pg_db: Database, tmp_path: Path
) -> None:
    """Every read op and a grant, ROUNDS times each on one client, while consecutive
    transactions land on different server connections: nothing relies on session state or on a
    statement prepared by an earlier transaction."""
    database = pg_db.profile.url.database
    pids = {row[0] for row in hold_every_server_connection(pooler, database)}
    assert len(pids) == POOL_SIZE  # the pooler really has several server connections to rotate
    db = pooled_db(pooler, pg_db, tmp_path, prepare_threshold="none")
    assert db.profile.prepare_threshold is None
    user = users.recent_users(db, 1).rows[0]
    paid_before = scalar(
        pg_db, "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u", u=user.id
    )
    text = needle(pg_db)
    check = orphans.get_check("ideas.user_id")
    try:
        for round_ in range(ROUNDS):
            assert users.recent_users(db, 10).rows
            assert users.find_users(db, text).rows
            assert users.get_user_detail(db, user.id).email == user.email
            assert executions.list_executions(db, limit=20).rows
            executions.failure_summary(db, None, None)
            assert payments.by_status(db)
            payments.list_payments(db, limit=20)
            credits.pending_receipts(db)
            assert orphans.count(db, check) == 0
            grant = credits.parse_grant(2, "2.00", f"BMC-POOLED-{round_}", max_credits=10_000)
            result = credits.grant_credits(db, user.id, grant, "pooled")
            assert result.new_total == result.previous_total + 2
    finally:
        db.dispose()
    paid_after = scalar(
        pg_db, "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u", u=user.id
    )
    assert paid_after == paid_before + 2 * ROUNDS  # type: ignore[operator]
    receipts = scalar(
        pg_db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference LIKE 'BMC-POOLED-%'"
    )
    assert receipts == ROUNDS


def test_without_prepare_threshold_none_the_pooler_breaks_the_app(
    pooler: Pooler, pg_db: Database, tmp_path: Path
) -> None:
    """The control: psycopg's default threshold prepares a statement after five runs, and the
    next transaction on another server connection can't find it. This is why the setting
    exists, and shows the pooler above really rotates server connections."""
    database = pg_db.profile.url.database
    hold_every_server_connection(pooler, database)
    db = pooled_db(pooler, pg_db, tmp_path)
    assert db.profile.prepare_threshold == 5
    try:
        with pytest.raises(DatabaseError, match=r"prepared statement .* does not exist"):
            for _ in range(ROUNDS):
                with db.read() as tx:  # statement by statement, as a write runs them
                    tx.rows("recent_users", limit=10)
    finally:
        db.dispose()


def test_per_transaction_settings_do_not_leak_to_other_clients(
    pooler: Pooler, pg_db: Database, tmp_path: Path
) -> None:
    """After the app's read-only, time-limited transactions and its grants through the pooler,
    every server connection it used is back to the server's defaults (the pinned search_path
    too), and another client can write."""
    database = pg_db.profile.url.database
    db = pooled_db(pooler, pg_db, tmp_path, prepare_threshold="none")
    user = users.recent_users(db, 1).rows[0].id
    try:
        for round_ in range(ROUNDS):
            with db.read() as tx:
                tx.rows("recent_users", limit=5)
            grant = credits.parse_grant(1, "1.00", f"BMC-LEAK-{round_}", max_credits=10)
            credits.grant_credits(db, user, grant, "pooled")
    finally:
        db.dispose()
    for (
        _pid,
        tx_read_only,
        default_read_only,
        timeout,
        plan,
        jit,
        path,
    ) in hold_every_server_connection(pooler, database):
        assert (tx_read_only, default_read_only) == ("off", "off")
        assert (timeout, plan, jit, path) == ("0", "auto", "on", '"$user", public')
    with raw_pooled(pooler, database) as other:
        other.execute("CREATE TABLE pooled_write (x int)")
        other.execute("INSERT INTO pooled_write VALUES (1)")
        other.commit()
    assert scalar(pg_db, "SELECT COUNT(*) FROM pooled_write") == 1


def test_a_slow_statement_is_stopped_through_the_pooler(
    pooler: Pooler, pg_db: Database, tmp_path: Path
) -> None:
    """Esc's cancel request (psycopg's cancel_safe) goes through PgBouncer to the server, and
    the statement timeout, set per transaction, still stops a statement behind the pooler;
    afterwards the same client goes on working."""
    registry = slow_registry(tmp_path)
    config = write_config(
        tmp_path / "slow.toml",
        pooler.url(pg_db.profile.url.database, password=False),
        prepare_threshold="none",
    )
    profile = parse_config(tomllib.loads(config.read_text()), config).profile("p")
    db = Database(profile, PG_PASSWORD, registry)
    timed = Database(dataclasses.replace(profile, statement_timeout_ms=300), PG_PASSWORD, registry)
    raised: list[BaseException] = []

    def slow_read() -> None:
        try:
            users.recent_users(db, 5)
        except BaseException as error:  # handed to the test
            raised.append(error)

    try:
        thread = threading.Thread(target=slow_read)
        thread.start()
        deadline = time.monotonic() + 10
        while not sleeping(pg_db):
            assert time.monotonic() < deadline, "the slow query never started"
            time.sleep(0.05)
        started = time.monotonic()
        assert db.cancel_running() == 1
        thread.join(10)
        assert not thread.is_alive() and time.monotonic() - started < 5
        assert isinstance(raised[0], CancelledError), raised
        assert sleeping(pg_db) == 0  # stopped on the server, not just abandoned
        with pytest.raises(DatabaseError, match=r"statement_timeout_ms \(300 ms\)"):
            users.recent_users(timed, 5)
        assert users.find_users(db, needle(pg_db)).rows  # the pooled client still works
    finally:
        db.dispose()
        timed.dispose()


def leave_on_every_server_connection(pooler: Pooler, database: str, sql: str) -> None:
    """Another client of the pooler runs `sql` (temporary objects) on each of its server
    connections, commits and goes: the objects stay there for the next client."""
    with ExitStack() as stack:
        clients = [stack.enter_context(raw_pooled(pooler, database)) for _ in range(POOL_SIZE)]
        pids = {client.execute("SELECT pg_backend_pid()").fetchone()[0] for client in clients}
        assert len(pids) == POOL_SIZE  # each client holds its own server connection
        for client in clients:
            client.execute(sql)
            client.commit()


def test_a_temporary_table_left_on_the_pooler_does_not_take_a_grant(
    pooler: Pooler, pg_db: Database, tmp_path: Path
) -> None:
    """A temporary `usage_tracking` another client left on every server connection: unnamed in
    the path, pg_temp is searched first and would take the grant; the pin lists it last."""
    database = pg_db.profile.url.database
    leave_on_every_server_connection(
        pooler,
        database,
        "CREATE TEMP TABLE usage_tracking (LIKE public.usage_tracking INCLUDING ALL); "
        "INSERT INTO usage_tracking SELECT * FROM public.usage_tracking; "
        "UPDATE usage_tracking SET paid_credits_remaining = paid_credits_remaining + 1000",
    )
    db = pooled_db(pooler, pg_db, tmp_path, prepare_threshold="none")
    user = users.recent_users(db, 1).rows[0].id
    paid = "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u"
    before = scalar(pg_db, paid, u=user)
    try:
        grant = credits.parse_grant(3, "3.00", "BMC-TEMP-TABLE", max_credits=10)
        result = credits.grant_credits(db, user, grant, "pooled")
    finally:
        db.dispose()
    assert scalar(pg_db, paid, u=user) == before + 3  # type: ignore[operator]
    assert result.new_total - result.previous_total == 3 and result.new_total < 1000


def test_a_temporary_view_left_on_the_pooler_runs_nothing_when_the_app_connects(
    pooler: Pooler, pg_db: Database, tmp_path: Path
) -> None:
    """SQLAlchemy's first connection looked the hstore type up in `pg_type`, unqualified and
    before any pin: a temporary view of that name (searched before pg_catalog) ran the other
    client's function as the app's role. The app asks for no hstore, so nothing reads it."""
    database = pg_db.profile.url.database
    pg_db.run_script(
        "CREATE SEQUENCE spied; "
        "CREATE FUNCTION spy_types() RETURNS SETOF pg_catalog.pg_type LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM nextval('spied'); RETURN QUERY SELECT * FROM pg_catalog.pg_type; END $$"
    )
    leave_on_every_server_connection(
        pooler, database, "CREATE TEMP VIEW pg_type AS SELECT * FROM public.spy_types()"
    )
    db = pooled_db(pooler, pg_db, tmp_path, prepare_threshold="none")
    try:
        assert users.recent_users(db, 1).rows
    finally:
        db.dispose()
    assert scalar(pg_db, "SELECT is_called FROM spied") is False
