"""The database layer: read-only transactions, write refusal, errors in one clear sentence."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from adminui.config import Profile, normalize_url, url_profile
from adminui.db import KEEPALIVE, ConnectionLostError, Database
from adminui.errors import DatabaseError, ReadOnlyError, SetupError
from adminui.ops import credits
from adminui.queries import Registry, default_query_dir
from bench.delay_proxy import DelayProxy
from tests.conftest import PG_PASSWORD, PgServer, raw_engine, scalar, with_registry

SNEAKY = """\
-- name: sneaky_delete
-- Claims to read, but deletes.
-- mode: read
-- params: none
DELETE FROM payment_receipts;

-- name: slow_read
-- Sleeps on PostgreSQL.
-- mode: read
-- params: seconds
SELECT pg_sleep(:seconds);

-- name: settings_seen
-- The settings a transaction runs with (PostgreSQL).
-- mode: read
-- params: none
SELECT current_setting('plan_cache_mode') AS plan, current_setting('jit') AS jit,
       current_setting('statement_timeout') AS timeout;

-- name: cursor_fraction_seen
-- How much of a cursor's rows the planner plans for (PostgreSQL).
-- mode: read
-- params: none
SELECT current_setting('cursor_tuple_fraction') AS fraction;
"""


@pytest.fixture
def sneaky_registry(tmp_path: Path) -> Registry:
    queries = tmp_path / "queries"
    shutil.copytree(default_query_dir(), queries)
    (queries / "zz_sneaky.sql").write_text(SNEAKY)
    return Registry.load(queries)


def test_a_read_statement_that_writes_fails_and_writes_nothing(
    db: Database, sneaky_registry: Registry
) -> None:
    before = scalar(db, "SELECT COUNT(*) FROM payment_receipts")
    assert before
    sneaky = with_registry(db, sneaky_registry)
    with pytest.raises(DatabaseError, match=r"refused it: .*\[sneaky_delete, "):
        sneaky.rows("sneaky_delete")
    sneaky.dispose()
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts") == before


def test_a_write_statement_is_refused_inside_a_read_transaction(db: Database) -> None:
    user_id = scalar(db, "SELECT user_id FROM usage_tracking LIMIT 1")
    with pytest.raises(ReadOnlyError), db.read() as tx:
        tx.run("delete_usage", user_id=str(user_id))
    assert scalar(db, "SELECT COUNT(*) FROM usage_tracking WHERE user_id = :u", u=str(user_id))


def test_a_read_only_profile_refuses_every_write_before_the_database(db: Database) -> None:
    read_only = with_registry(db, db.registry, read_only=True)
    with pytest.raises(ReadOnlyError, match="read-only"), read_only.write():
        pass
    assert read_only.rows("recent_users", limit=1)
    read_only.dispose()


def test_a_failed_write_transaction_rolls_back_everything(db: Database) -> None:
    user_id = str(scalar(db, "SELECT user_id FROM usage_tracking LIMIT 1"))
    with pytest.raises(RuntimeError), db.write() as tx:
        assert tx.run("delete_usage", user_id=user_id) == 1
        raise RuntimeError("operator pulled the plug")
    assert scalar(db, "SELECT COUNT(*) FROM usage_tracking WHERE user_id = :u", u=user_id) == 1


def test_a_caught_statement_error_ends_the_transaction(db: Database) -> None:
    """A statement that fails rolls its transaction back (PostgreSQL's connection is then
    outside any transaction: whatever ran next would commit by itself). So a caller that
    catches the error and goes on is stopped at its next statement, and one that catches it
    and ends the block commits nothing: the write before the failure is not kept on either."""
    user_id = str(scalar(db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))
    paid = "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u"
    before = scalar(db, paid, u=user_id)
    receipt_of_nobody = {  # its user does not exist: the foreign key refuses it on both
        "user_id": str(uuid.uuid4()),
        **{"amount_usd": "1.00", "credits": 1, "reference": "BMC-NOBODY", "notes": None},
        **{"verified_by": "op", "now": datetime.now(UTC)},
    }
    went_on = pytest.raises(RuntimeError, match="rolled back when 'insert_verified_receipt'")
    with went_on, db.write() as tx:
        tx.run("add_paid_credits", user_id=user_id, credits=7)
        with pytest.raises(DatabaseError):
            tx.rows("insert_verified_receipt", **receipt_of_nobody)
        tx.run("add_paid_credits", user_id=user_id, credits=1000)
    with pytest.raises(DatabaseError, match="nothing of it was committed"), db.write() as tx:
        tx.run("add_paid_credits", user_id=user_id, credits=7)
        with pytest.raises(DatabaseError):
            tx.rows("insert_verified_receipt", **receipt_of_nobody)
    assert scalar(db, paid, u=user_id) == before


def test_nothing_runs_after_a_read_has_committed(pg_db: Database) -> None:
    """end() sends COMMIT with the last statements: a stream or an executemany after it would
    run outside the transaction, its settings and read-only mode gone."""
    with pg_db.read() as tx:
        assert tx.end([("recent_users", {"limit": 1})])[0]
        for after in (
            lambda: list(tx.stream("connection_search_path")),
            lambda: tx.run_many("recent_users", [{"limit": 1}]),
            lambda: tx.rows("recent_users", limit=1),
        ):
            with pytest.raises(RuntimeError, match="committed already"):
                after()


def test_a_failure_of_the_transaction_settings_names_them(pg_db: Database, tmp_path: Path) -> None:
    """The settings go with BEGIN and the first statements, in one round trip; when they are
    what the server refuses (an older server without one of them), the error names them, not
    the statement after them that never ran."""
    queries = tmp_path / "queries"
    shutil.copytree(default_query_dir(), queries)
    session = queries / "session.sql"
    sql = session.read_text()
    first = "SELECT pg_catalog.set_config(\n         'search_path'"
    assert first in sql
    session.write_text(
        sql.replace(first, "SELECT 1 / (length(:schema) - length(:schema)), " + first[7:])
    )
    broken = with_registry(pg_db, Registry.load(queries))
    try:
        named = r"division by zero\. \[transaction_settings, "
        with pytest.raises(DatabaseError, match=named):
            broken.rows("recent_users", limit=1)
        with pytest.raises(DatabaseError, match=named), broken.write() as tx:
            tx.rows("recent_users", limit=1)
    finally:
        broken.dispose()


def test_wrong_params_are_a_programming_error(db: Database) -> None:
    with pytest.raises(TypeError, match="'recent_users' takes \\['limit'\\], was given \\[\\]"):
        db.rows("recent_users")


def test_statement_timeout_is_one_clear_sentence(pg_db: Database, sneaky_registry: Registry):
    slow = with_registry(pg_db, sneaky_registry, statement_timeout_ms=100)
    with pytest.raises(DatabaseError, match="ran past statement_timeout_ms \\(100 ms\\)"):
        slow.rows("slow_read", seconds=5)
    slow.dispose()


def test_each_statement_is_planned_for_its_parameters(pg_db: Database, sneaky_registry: Registry):
    """The optional filters `(CAST(:x AS text) IS NULL OR ...)` fold away only in a custom plan;
    a prepared statement's generic plan (after five runs) would walk indexes from their start."""
    timed = with_registry(pg_db, sneaky_registry, statement_timeout_ms=5000)
    seen = [tuple(timed.one("settings_seen").values()) for _ in range(7)]
    assert seen == [("force_custom_plan", "off", "5s")] * 7
    # A write keeps the server's: forced, the foreign keys' own statements (ON DELETE SET NULL,
    # once per deleted row) would be planned again for every row.
    with timed.write() as tx:
        assert tuple(tx.one("settings_seen").values()) == ("auto", "off", "5s")
    timed.dispose()


def test_a_cursor_is_planned_for_all_its_rows(pg_db: Database, sneaky_registry: Registry):
    """Every server-side cursor adminui opens (a streamed backup, an orphan page) is read to its
    end: planned for its first tenth (PostgreSQL's default), an orphan page took 8x as long."""
    planned = with_registry(pg_db, sneaky_registry)
    assert planned.one("cursor_fraction_seen")["fraction"] == "1"
    with planned.write() as tx:
        assert tx.one("cursor_fraction_seen")["fraction"] == "1"
    planned.dispose()


def test_without_a_timeout_the_servers_own_is_kept_and_the_rest_still_applies(
    pg_db: Database, sneaky_registry: Registry
):
    """A profile without statement_timeout_ms keeps whatever the role sets (Supabase sets one
    per role), and still gets custom plans and no JIT."""
    database = pg_db.profile.url.database
    role_timeout = f"ALTER ROLE CURRENT_USER IN DATABASE {database} SET statement_timeout"
    engine = raw_engine(pg_db)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"{role_timeout} = '7s'")
    untimed = with_registry(pg_db, sneaky_registry, statement_timeout_ms=None)
    try:
        assert tuple(untimed.one("settings_seen").values()) == ("force_custom_plan", "off", "7s")
    finally:
        untimed.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"{role_timeout} TO DEFAULT")
        engine.dispose()


def _connect_error(profile_url: str, password: str | None) -> str:
    db = Database(Profile("prod", normalize_url(profile_url, "test"), connect_timeout=3), password)
    with pytest.raises(SetupError) as caught:
        db.check()
    return str(caught.value)


def test_nothing_listening_names_host_and_port(pg_server: PgServer) -> None:
    message = _connect_error("postgresql://postgres@127.0.0.1:1/app", "hunter2-canary")
    assert message.startswith("Nothing accepted a connection at 127.0.0.1:1/app")
    assert "hunter2-canary" not in message


def test_a_wrong_password_says_how_to_set_it(pg_server: PgServer) -> None:
    url = pg_server.url("postgres", password=False)
    message = _connect_error(url, "hunter2-canary")
    assert f"127.0.0.1:{pg_server.port}/postgres refused the password for postgres" in message
    assert "adminui password set prod" in message
    assert "hunter2-canary" not in message


def test_a_missing_database_is_named(pg_server: PgServer) -> None:
    message = _connect_error(pg_server.url("no_such_db", password=False), PG_PASSWORD)
    assert 'database "no_such_db" does not exist' in message


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"No SQLite file at .*absent\.sqlite"):
        Database(url_profile(f"sqlite:///{tmp_path / 'absent.sqlite'}"))
    assert not (tmp_path / "absent.sqlite").exists()


def test_naive_times_are_refused_before_they_reach_either_database(db: Database) -> None:
    from datetime import UTC, datetime

    with pytest.raises(TypeError, match="created_at is a naive datetime"), db.write() as tx:
        tx.run(
            "insert_user",
            id="00000000-0000-4000-8000-000000000099",
            email="n@example.com",
            name=None,
            timezone="UTC",
            created_at=datetime(2026, 1, 1),
        )
    # Inside a list too (PostgreSQL would read it in the session's time zone, SQLite as given).
    with pytest.raises(TypeError, match="months is a naive datetime"):
        db.rows(
            "payments_by_month", months=[datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1)]
        )


def _kill_idle(db: Database) -> object:
    """Terminate the app's connections waiting in its pool (a restart, a pooler's idle timeout)."""
    return scalar(
        db,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'adminui' AND state = 'idle'",
    )


@contextmanager
def dropped_after_checkout(db: Database) -> Iterator[list[int]]:
    """Kill the next connection the pool hands out, after adminui's own checkout look and
    before anything is sent on it (dropped unseen: the server's FIN still on its way); the
    backend pids killed."""
    killed: list[int] = []

    def kill(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if not killed:
            pid = dbapi_conn.info.backend_pid
            killed.append(pid)
            scalar(db, "SELECT pg_terminate_backend(:pid)", pid=pid)
            while scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid", pid=pid):
                time.sleep(0.01)

    event.listen(db._write_engine, "checkout", kill)
    try:
        yield killed
    finally:
        event.remove(db._write_engine, "checkout", kill)


def test_a_read_on_a_pooled_connection_is_one_round_trip_and_a_dropped_one_is_replaced(
    pg_db: Database,
) -> None:
    """Nothing is pinged before use (that round trip was most of a fast read's cost far away):
    a read on a pooled connection is one round trip, counted on the wire. One the server closed
    while it waited is seen on checkout (its socket is readable) and replaced; one dropped
    unseen fails the read before the server answered any of it, which is sent once more."""
    url = pg_db.profile.url
    # 25 ms away: the server answers BEGIN as soon as it reads it, and on loopback that answer
    # can come back while the client is still sending the rest (no wait, but a "trip" counted).
    with DelayProxy(url.host or "127.0.0.1", url.port or 5432, 25) as proxy:
        near = Database(Profile("near", url.set(port=proxy.port)), PG_PASSWORD)
        try:
            assert near.rows("recent_users", limit=1)  # connects; the connection waits in the pool
            trips = proxy.trips
            assert near.rows("recent_users", limit=1)
            assert near.read_many([("recent_users", {"limit": 1}), ("live_tables", {})])
            assert proxy.trips - trips == 2
            assert _kill_idle(pg_db) == 1
            assert near.rows("recent_users", limit=1)
            with dropped_after_checkout(near) as killed:
                assert near.rows("recent_users", limit=1)
            assert len(killed) == 1
        finally:
            near.dispose()


def test_connections_keep_alive_and_give_up_on_a_network_gone_silent(pg_db: Database) -> None:
    """What libpq was asked for on every connection: TCP keepalive probes on an idle one, and
    a limit on how long sent bytes may go unacknowledged (a statement sent into a network that
    went away fails after it, instead of waiting for ever)."""
    with pg_db.read() as tx:
        asked = tx.unbegun_connection.info.get_parameters()
    assert {key: asked.get(key) for key in KEEPALIVE} == {
        key: str(value) for key, value in KEEPALIVE.items()
    }


def test_a_write_on_a_dropped_connection_is_not_retried(pg_db: Database) -> None:
    """A write is never sent twice: dropped unseen, it fails saying nothing was changed (it
    was not: no COMMIT went), and the next one works."""
    user_id = str(scalar(pg_db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))
    grant = credits.parse_grant(1, "1.00", "REL-DROPPED", max_credits=10)
    count = "SELECT count(*) FROM payment_receipts WHERE bmc_reference = 'REL-DROPPED'"
    assert pg_db.rows("recent_users", limit=1)
    with dropped_after_checkout(pg_db), pytest.raises(ConnectionLostError) as lost:
        credits.grant_credits(pg_db, user_id, grant, "jordan")
    assert "nothing was changed" in str(lost.value)
    assert scalar(pg_db, count) == 0
    credits.grant_credits(pg_db, user_id, grant, "jordan")
    assert scalar(pg_db, count) == 1
    # a connection now waits in the pool
    killed = scalar(
        pg_db,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'adminui' AND state = 'idle'",
    )
    assert killed == 1
    assert pg_db.rows("recent_users", limit=1)
