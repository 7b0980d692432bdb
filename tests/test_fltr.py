"""The fltr pack (seeds 003 and 004) on both dialects: its two databases built from its reference
DDL and demo SQL, recognised from the catalog, its orphan checks (generated from its manifest)
counted, cleaned and restored with nothing lost or gained, its text keys compared exactly, and
its foreign-key health; with only the first database named, the views of the second say so."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from adminui import connect
from adminui.config import Profile
from adminui.db import Database
from adminui.errors import AdminError, NotFoundError, SetupError
from adminui.ops import backups, health, ledger, orphans, users
from adminui.packs import DATA, MAIN, load_pack, pack_named, recognise
from tests.conftest import FIXTURE_NOW, FLTR_DROPPED, PG_PASSWORD, fltr_databases, raw_engine, run
from tests.conftest import FLTR_USERS as USERS
from tests.pg_cluster import PgServer

GONE = 3 + USERS // 200  # the demo's users who are gone (their rows are orphans)
FLTR = pack_named("fltr")
# What the demo plants, by check (counted independently of adminui below).
PLANTED = {
    "sessions.user_id": GONE,
    "accounts.user_id": 0,
    "api_key_credits.team_id": 0,
    "api_key_credits.user_id": GONE,
    "credit_transactions.team_id": 1,
    "credit_transactions.user_id": GONE,
    "user_credits.team_id": 1,
    "user_credits.user_id": GONE,
    "teams.owner_id": 1,
    "processing_jobs.document_id": 2,
    "documents.dataset_id": 3,
    # Across databases: the gone users' datasets and USR_5's (only its case differs from usr_5).
    "datasets.user_id": GONE + 1,
}


def _password(db: Database) -> str | None:
    return PG_PASSWORD if db.dialect == "postgresql" else None


def count_sql(db: Database, sql: str) -> int:
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def dump(db: Database, table: str) -> list[tuple]:
    """Every row of a table, as the driver gives it, in key order: what must come back whole."""
    engine = raw_engine(db.on(FLTR.database_of(table), table))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
    finally:
        engine.dispose()


def test_the_catalog_tells_fltr_from_idea_expansion(fltr: Database, db: Database) -> None:
    assert recognise(fltr.tables(), "here") is FLTR
    assert recognise(db.tables(), "here") is load_pack()
    with pytest.raises(SetupError, match="several products"):
        recognise(fltr.tables() | db.tables(), "here")
    with pytest.raises(SetupError, match=r"holds no product adminui knows.*fltr has users"):
        recognise(fltr.on(DATA, "test").tables(), "the fltr database")


def test_every_check_counts_what_the_demo_planted(fltr: Database) -> None:
    counted = {c.check.name: c.count for c in orphans.scan(fltr, full=True)}
    assert counted == PLANTED
    # Independently: seed 003 step 2's own query.
    assert (
        count_sql(
            fltr, "SELECT count(*) FROM user_credits WHERE user_id NOT IN (SELECT id FROM users)"
        )
        == PLANTED["user_credits.user_id"]
    )


def test_text_keys_are_compared_exactly(fltr: Database) -> None:
    """'usr_twin' and 'usr_Twin' are two users: deleting one orphans only its own balance."""
    engine = raw_engine(fltr)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = 'usr_twin'"))
    engine.dispose()
    check = orphans.get_check("user_credits.user_id", FLTR)
    keys = [row["user_id"] for row in orphans.preview(fltr, check, limit=100).rows]
    assert "usr_twin" in keys and "usr_Twin" not in keys
    assert len(keys) == GONE + 1


@pytest.mark.parametrize("name", sorted(n for n, planted in PLANTED.items() if planted))
def test_a_clean_and_its_restore_give_back_every_row_whole(
    fltr: Database, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean each check (its dependents included), then restore: every table of its database
    is as before, byte for byte; nothing lost, nothing gained. A check of a table adminui can't
    read whole (secret columns) is cleaned and refused a restore."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    check = orphans.get_check(name, FLTR)
    tables = [t for t in FLTR.tables if FLTR.database_of(t) == check.database]
    before = {t: dump(fltr, t) for t in tables}
    saved = backups.backup(fltr, check, tmp_path / "b.jsonl", include_dependents=True)
    result = orphans.clean(fltr, saved, "tester")
    assert (result.acted_on, result.remaining) == (PLANTED[name], 0)
    if not check.restorable:
        with pytest.raises(Exception, match="can't be restored"):
            backups.restore(fltr, backups.read_backup(saved.path), "tester")
        return
    # As `orphans restore` opens it: the rows go back without their parents.
    restoring = Database(fltr.profile, _password(fltr), pack=FLTR, enforce_foreign_keys=False)
    try:
        restored = backups.restore(restoring, backups.read_backup(saved.path), "tester")
    finally:
        restoring.dispose()
    assert restored.refused == ()
    assert {t: dump(fltr, t) for t in tables} == before


def execute(db: Database, *statements: str) -> None:
    """Statements run past adminui, as another program on the same database would."""
    engine = raw_engine(db)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def rows_sql(db: Database, sql: str) -> list[tuple]:
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


ACROSS = orphans.get_check("datasets.user_id", FLTR)


def test_the_second_database_opens_while_privileges_are_still_to_be_asked(fltr: Database) -> None:
    """Right after check() the role's privileges wait to be asked with the first read; opening
    the second database learns them first (a read, which takes the pool's lock) and must not do
    it while holding that lock: it would wait on itself for ever."""
    db = Database(fltr.profile, _password(fltr), pack=FLTR)
    try:
        db.check()
        assert db._unasked, "check() left the privileges for the first read"
        opened: list[Database] = []
        thread = threading.Thread(target=lambda: opened.append(db.on(DATA, "test")), daemon=True)
        thread.start()
        thread.join(30)
        assert opened, "on() waited on its own lock"
        assert opened[0].tables() >= {"datasets"} and not opened[0].known_read_only
    finally:
        db.dispose()


def test_the_check_across_databases_agrees_with_both_sides_compared_here(
    fltr: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every dataset whose user_id is not, character for character, a users id of the other
    database, and only those: compared here from both whole tables, while adminui pages through
    them 7 rows at a time (every page and question boundary crossed). Ids that look alike are
    different users: another normalisation of the same accented name, a trailing space."""
    data = fltr.on(DATA, "test")
    execute(
        fltr,
        "INSERT INTO users (id, name, email) VALUES ('usr_caf\u00e9', 'Cafe', 'cafe@example.com')",
    )
    odd = ("usr_caf\u00e9", "usr_cafe\u0301", "usr_1 ")  # the first exists; the others don't
    execute(
        data,
        *(
            f"INSERT INTO datasets (id, user_id, name) VALUES "
            f"('e0000000-0000-4000-8000-00000000000{i}', '{user}', 'odd {i}')"
            for i, user in enumerate(odd)
        ),
    )
    monkeypatch.setattr(orphans, "CROSS_PAGE", 7)
    users = {row[0] for row in rows_sql(fltr, "SELECT id FROM users")}
    expected = sorted(
        str(dataset)
        for dataset, user in rows_sql(data, "SELECT id, user_id FROM datasets")
        if user not in users
    )
    assert orphans.count(fltr, ACROSS) == len(expected) == PLANTED["datasets.user_id"] + 2
    seen, after = [], None
    while True:
        page = orphans.preview(fltr, ACROSS, after, limit=2)
        seen += [row["id"] for row in page.rows]
        if page.after is None:
            break
        after = page.after
    assert seen == expected
    dangling = {row["user_id"] for row in orphans.preview(fltr, ACROSS, limit=100).rows}
    assert {"USR_5", "usr_cafe\u0301", "usr_1 "} <= dangling and "usr_caf\u00e9" not in dangling
    assert "usr_5" in users and "usr_1" in users


@pytest.mark.parametrize("change", ["its user is back", "it moved to a live user"])
def test_a_clean_across_databases_asks_the_other_one_again(
    fltr: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """Between the backup and the clean, USR_5 signs up in fltr_auth (or its dataset is moved to
    a live user): the clean asks fltr_auth again inside its transaction, finds a backed-up row
    that is no longer an orphan, and rolls back. Every row of fltr stays; the backup stays."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    data = fltr.on(DATA, "test")
    saved = backups.backup(fltr, ACROSS, tmp_path / "b.jsonl", include_dependents=True)
    if change == "its user is back":
        execute(fltr, "INSERT INTO users (id, name, email) VALUES ('USR_5', 'Back', 'b@x.org')")
    else:
        execute(data, "UPDATE datasets SET user_id = 'usr_7' WHERE user_id = 'USR_5'")
    tables = [t for t in FLTR.tables if FLTR.database_of(t) == DATA]
    before = {t: dump(fltr, t) for t in tables}
    with pytest.raises(AdminError, match=f"Only {PLANTED['datasets.user_id'] - 1} of the"):
        orphans.clean(fltr, saved, "tester")
    assert {t: dump(fltr, t) for t in tables} == before
    assert saved.path.exists()
    assert orphans.count(fltr, ACROSS) == PLANTED["datasets.user_id"] - 1


def _sign_up(db: Database, user: str, wait_ms: int) -> str | None:
    """Another program signs `user` up in fltr_auth, waiting at most `wait_ms` for locks: None
    when it did, or the database's refusal."""
    from sqlalchemy import exc

    engine = (
        create_engine(db.profile.url.set(password=PG_PASSWORD))
        if db.dialect == "postgresql"
        else create_engine(db.profile.url, connect_args={"timeout": wait_ms / 1000})
    )
    try:
        with engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
            conn.execute(
                text("INSERT INTO users (id, name, email) VALUES (:id, 'Back', 'back@x.org')"),
                {"id": user},
            )
        return None
    except exc.OperationalError as error:
        return str(error.orig)
    finally:
        engine.dispose()


def test_no_user_signs_up_between_the_question_and_the_clean_s_commit(
    fltr: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the clean has asked fltr_auth which users are gone, fltr_auth stays still until the
    clean of fltr has committed: USR_5 signing up in that gap (after the question, before the
    delete) is made to wait, so it can't sign up to find its datasets deleted after it came. Once
    the clean is done, it signs up (to no datasets: they were orphans when deleted)."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    saved = backups.backup(fltr, ACROSS, tmp_path / "b.jsonl", include_dependents=True)
    asked = orphans._gone
    refusals = []

    def asked_then_signed_up(*args):
        gone = asked(*args)
        refusals.append(_sign_up(fltr, "USR_5", 300))
        return gone

    monkeypatch.setattr(orphans, "_gone", asked_then_signed_up)
    result = orphans.clean(fltr, saved, "tester")
    [refusal] = refusals
    assert refusal is not None and ("lock" in refusal), refusal
    assert (result.acted_on, result.remaining) == (PLANTED["datasets.user_id"], 0)
    assert count_sql(fltr, "SELECT count(*) FROM users WHERE id = 'USR_5'") == 0
    assert _sign_up(fltr, "USR_5", 300) is None
    assert orphans.count(fltr, ACROSS) == 0


def test_a_clean_across_databases_whose_commit_reply_is_lost_is_reported_committed(
    pg_server: PgServer, fltr_pg_template: dict[str, str], tmp_path: Path
) -> None:
    """Both databases reached through a proxy that loses the clean's COMMIT reply: the clean
    committed on the server, and adminui says so (it asks on a new connection), with the
    remaining count and a committed audit line; a retry finds nothing left to delete."""
    from dataclasses import replace

    from adminui import audit
    from tests.commit_cutter import commit_cutter

    fixture = fltr_databases(pg_server, fltr_pg_template)
    db = next(fixture)
    try:
        with commit_cutter(pg_server.port) as cutter:
            profile = db.profile
            assert profile.data_url is not None
            proxied = Database(
                replace(
                    profile,
                    url=profile.url.set(port=cutter.port),
                    data_url=profile.data_url.set(port=cutter.port),
                ),
                PG_PASSWORD,
                pack=FLTR,
            )
            try:
                path = tmp_path / "b.jsonl"
                saved = backups.backup(proxied, ACROSS, path, include_dependents=True)
                cutter.arm("cut")
                result = orphans.clean(proxied, saved, "tester")
            finally:
                proxied.dispose()
            assert cutter.cut.is_set() and result.warning
            assert "committed (shown here)" in result.warning
        assert (result.acted_on, result.remaining) == (PLANTED["datasets.user_id"], 0)
        data = db.on(DATA, "test")
        gone = ", ".join(f"'{i}'" for i in saved.ids)
        assert count_sql(data, f"SELECT count(*) FROM datasets WHERE id IN ({gone})") == 0
        assert count_sql(data, f"SELECT count(*) FROM documents WHERE dataset_id IN ({gone})") == 0
        [entry] = [w for w in audit.writes() if w["operation"].startswith("orphans.clean")]
        assert entry["outcome"] == "committed"
        assert orphans.count(db, ACROSS) == 0
    finally:
        next(fixture, None)  # its cleanup: the databases dropped


def test_without_the_second_database_its_checks_say_what_they_need(fltr: Database) -> None:
    alone = Database(Profile(name="fltr", url=fltr.profile.url), _password(fltr), pack=FLTR)
    try:
        counts = {c.check.name: c for c in orphans.scan(alone, full=True)}
        assert counts["user_credits.user_id"].count == GONE
        for name in ("documents.dataset_id", "processing_jobs.document_id", "datasets.user_id"):
            assert counts[name].count is None
            assert "fltr database" in counts[name].unreachable
            assert "data_url" in counts[name].unreachable
        states = {k.check: k.state for k in health.foreign_keys(alone)}
        assert states["documents.dataset_id"] == "unknown"
    finally:
        alone.dispose()


def test_the_foreign_key_health_names_seed_003s_constraint(pg_server, fltr_pg_template) -> None:
    db = next(fltr_databases(pg_server, fltr_pg_template))
    try:
        found = {k.check: k for k in health.foreign_keys(db)}
        missing = {k.key.name for k in found.values() if k.state == "missing"}
        assert missing == {name for keys in FLTR_DROPPED.values() for _, name in keys}
        assert found["user_credits.user_id"].fix == (
            "ALTER TABLE user_credits ADD CONSTRAINT user_credits_user_id_users_id_fk FOREIGN KEY "
            "(user_id) REFERENCES users(id) ON DELETE CASCADE;"
        )
        assert found["user_credits.team_id"].fix.endswith("REFERENCES teams(id);")
        assert {found[n].state for n in ("accounts.user_id", "api_key_credits.team_id")} == {
            "present"
        }
        assert "datasets.user_id" not in found  # across databases: no constraint can hold it
    finally:
        db.dispose()


def _cli_urls(fltr: Database) -> list[str]:
    """--url and --data-url naming the fixture's two databases (passwords in the URLs)."""
    urls = []
    for url in (fltr.profile.url, fltr.profile.data_url):
        assert url is not None
        if fltr.dialect == "postgresql":
            urls.append(url.set(password=PG_PASSWORD).render_as_string(hide_password=False))
        else:
            urls.append(f"sqlite:///{url.database}")
    return ["--url", urls[0], "--data-url", urls[1]]


def test_the_cli_recognises_fltr_and_refuses_jobs_it_does_not_offer(fltr: Database, capsys) -> None:
    code, out, err = run(capsys, *_cli_urls(fltr), "orphans", "scan", "--full", "--format", "json")
    assert code == 0, err
    assert {r["check"]: r["count"] for r in json.loads(out)} == PLANTED
    code, out, err = run(capsys, *_cli_urls(fltr)[:2], "receipts", "pending")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "has no receipts job" in err
    code, out, err = run(capsys, "--product", "fltr", "executions", *_cli_urls(fltr)[:2])
    assert code == 1 and "has no executions job" in err


async def test_the_app_opens_fltr_on_its_own_jobs(fltr: Database) -> None:
    """The header names the product; the app opens on fltr's user lookup with fltr's columns,
    the palette offers only its jobs, and its orphan checks count both databases."""
    from textual.widgets import DataTable

    from adminui.tui.app import JOB_SCREENS, AdminApp
    from adminui.tui.orphans import OrphansScreen
    from adminui.tui.user_lookup import UserLookupScreen
    from tests.test_tui import table_emails, wait_until

    app = AdminApp(fltr)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, UserLookupScreen) and table_emails(app) != []
        )
        assert app.title == "adminui · fltr"
        table = app.screen.query_one("#results", DataTable)
        assert [str(c.label) for c in table.columns.values()] == [
            label for _, label in FLTR.lookup.shown
        ]
        assert table_emails(app) == [row.email for row in users.recent_users(fltr).rows]
        offered = {c.title for c in app.get_system_commands(app.screen)}
        named = {title for _, title, _, _ in JOB_SCREENS} | {"Grant credits"}  # the form's name
        assert named & offered == {
            "User lookup",
            "Grant credits",
            "Credit ledger",
            "Processing",
            "Orphan rows",
            "Schema",
        }
        app.open_orphans()
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, OrphansScreen)
                and sum(t.row_count for t in app.screen.query("#counts").results(DataTable))
                == len(PLANTED)
            ),
        )
        row = app.screen.query_one("#counts", DataTable).get_row("datasets.user_id")
        assert str(row[1]) == str(PLANTED["datasets.user_id"])


def _ids(db: Database, sql: str) -> set[str]:
    return {str(row[0]) for row in rows_sql(db, sql)}


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        # email or name, folded as the database folds (Zoë's ë too)
        ("zoë.4", "SELECT id FROM users WHERE email LIKE 'zoë.4%'"),
        ("TWIN", "SELECT id FROM users WHERE lower(name) LIKE '%twin%'"),
        # an id, exactly: its case twin is another user
        ("usr_Twin", "SELECT id FROM users WHERE id = 'usr_Twin'"),
        # a team's name: its owner and the members its balances name
        (
            "team 2",
            "SELECT owner_id FROM teams WHERE name = 'Team 2' UNION "
            "SELECT user_id FROM user_credits WHERE team_id IN "
            "(SELECT id FROM teams WHERE name = 'Team 2')",
        ),
        # an API key, whole
        ("ak_usr_30", "SELECT user_id FROM api_key_credits WHERE api_key = 'ak_usr_30'"),
    ],
)
def test_fltr_users_are_found_by_what_support_is_told(fltr: Database, text: str, sql: str) -> None:
    found = users.find_users(fltr, text)
    expected = _ids(fltr, sql)
    assert {row.id for row in found.rows} == expected and expected
    assert set(found.rows[0]) == {
        "id",
        "email",
        "name",
        "created_at",
        "credits",
        "total_credits_purchased",
        "team_id",
    }


def test_a_fltr_user_is_resolved_exactly(fltr: Database) -> None:
    assert users.resolve_user(fltr, "usr_Twin") == "usr_Twin"
    assert users.resolve_user(fltr, "ada.twin@example.com") == "usr_twin"
    with pytest.raises(NotFoundError, match="2 users have the email"):
        users.resolve_user(fltr, "ADA.TWIN@example.com")
    with pytest.raises(NotFoundError):
        users.resolve_user(fltr, "USR_TWIN")


def test_users_show_uses_fltr_s_own_names_and_both_databases(fltr: Database, capsys) -> None:
    """A team member (usr_55, of team_50) with datasets: its balance, team and ledger as
    fltr_auth holds them, its datasets and documents as fltr does, under fltr's column names;
    every figure counted here independently. An API key shows as its first characters only."""
    code, out, err = run(capsys, *_cli_urls(fltr), "users", "show", "usr_55", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    balance = rows_sql(
        fltr,
        "SELECT credits, total_credits_purchased, team_id FROM user_credits "
        "WHERE user_id = 'usr_55'",
    )
    assert [(shown["credits"], shown["total_credits_purchased"], shown["team_id"])] == balance
    assert shown["team_id"] == "team_50" and shown["team_name"] == "Team 1"
    ledger = "FROM credit_transactions WHERE user_id = 'usr_55'"
    assert shown["ledger_sum"] == count_sql(fltr, f"SELECT SUM(amount) {ledger}")
    assert shown["transaction_count"] == count_sql(fltr, f"SELECT count(*) {ledger}")
    assert len(shown["transactions"]) == min(10, shown["transaction_count"])
    data = fltr.on(DATA, "test")
    mine = "FROM datasets WHERE user_id = 'usr_55'"
    assert shown["datasets"] == count_sql(data, f"SELECT count(*) {mine}") == 1
    assert shown["documents"] == count_sql(
        data, f"SELECT count(*) FROM documents WHERE dataset_id IN (SELECT id {mine})"
    )
    assert "unreachable" not in shown
    code, out, err = run(capsys, *_cli_urls(fltr), "users", "show", "usr_60", "--format", "json")
    assert [key["api_key"] for key in json.loads(out)["api_keys"]] == ["ak_usr_6…"]


def test_without_the_fltr_database_a_user_says_what_it_lacks(fltr: Database, capsys) -> None:
    code, out, err = run(
        capsys, *_cli_urls(fltr)[:2], "users", "show", "usr_60", "--format", "json"
    )
    assert code == 0, err
    shown = json.loads(out)
    assert "datasets" not in shown and shown["credits"] is not None
    assert "fltr database" in shown["unreachable"] and "data_url" in shown["unreachable"]


def test_the_demo_of_fltr_builds_both_files(tmp_path: Path, capsys) -> None:
    path = tmp_path / "demo-fltr.sqlite"
    code, _, err = run(
        capsys, "demo", "--product", "fltr", "--users", "50", "--no-open", "--path", str(path)
    )
    assert code == 0, err
    files = connect.demo_files(path, FLTR)
    assert all(file.is_file() for file in files.values())
    urls = [f"--url=sqlite:///{files[MAIN]}", f"--data-url=sqlite:///{files[DATA]}"]
    code, out, err = run(capsys, *urls, "orphans", "scan", "--full", "--format", "json")
    assert code == 0, err
    counts = {r["check"]: r["count"] for r in json.loads(out)}
    assert counts["user_credits.user_id"] == 3 + 50 // 200
    assert counts["documents.dataset_id"] == 3


def test_a_clean_across_databases_killed_mid_backup_leaves_both_whole(
    fltr: Database, tmp_path: Path
) -> None:
    """SIGKILL while the backup of 20,000 datasets with odd text user ids is written: only
    `<path>.partial` is left (restore refuses it), every dataset is still there, and the
    killed process held nothing: a user signs up in fltr_auth at once."""
    import subprocess
    import uuid

    from tests.conftest import kill_once_written, start_cli

    data = fltr.on(DATA, "test")
    gone = [f"gone_\u00fc\u0308_{n}\u202e " for n in range(20_000)]  # combining, bidi, space
    execute(
        data,
        *(
            "INSERT INTO datasets (id, user_id, name) VALUES "
            + ", ".join(f"('{uuid.uuid4()}', '{user}', 'planted')" for user in gone[i : i + 1000])
            for i in range(0, len(gone), 1000)
        ),
    )
    before = sorted(rows_sql(data, "SELECT id, user_id FROM datasets"))
    orphaned = orphans.count(fltr, ACROSS)
    assert orphaned == PLANTED["datasets.user_id"] + len(gone)
    target, partial = tmp_path / "killed.jsonl", tmp_path / "killed.jsonl.partial"
    child = start_cli(
        *_cli_urls(fltr),
        "orphans",
        "clean",
        "datasets.user_id",
        "--backup",
        str(target),
        "--yes",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_once_written(child, partial)
    assert not target.exists()
    with pytest.raises(AdminError, match="cut short"):
        backups.read_backup(partial)
    assert sorted(rows_sql(data, "SELECT id, user_id FROM datasets")) == before
    assert orphans.count(fltr, ACROSS) == orphaned
    execute(fltr, "INSERT INTO users (id, name, email) VALUES ('usr_new', 'New', 'n@example.com')")
    assert orphans.count(fltr, ACROSS) == orphaned  # usr_new owns no dataset


def test_a_backup_of_one_product_is_refused_by_another(
    fltr: Database, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fltr backup put to an Idea Expansion database (same dialect or not): refused, nothing
    written."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    check = orphans.get_check("teams.owner_id", FLTR)
    saved = backups.backup(fltr, check, tmp_path / "b.jsonl", include_dependents=True)
    orphans.clean(fltr, saved, "tester")
    before = count_sql(db, "SELECT count(*) FROM users")
    with pytest.raises(Exception, match="a backup of fltr"):
        backups.restore(db, backups.read_backup(saved.path), "tester")
    assert count_sql(db, "SELECT count(*) FROM users") == before


def test_an_unknown_product_is_one_sentence(capsys) -> None:
    code, out, err = run(capsys, "--product", "fltr2", "orphans", "scan", "--url", "sqlite:///x")
    assert (code, out) == (1, "")
    assert err == (
        "adminui: product: no product is called 'fltr2'; the products are filepath, fltr, "
        "idea-expansion, omnichat\n"
    )


def test_a_recognised_product_is_named_on_stderr_at_a_terminal(fltr_sqlite_template: Path) -> None:
    """At a terminal the CLI says which product it recognised; its data on stdout is unchanged
    (a script's stderr, not a terminal, gets no such line: tests/test_cli.py)."""
    import os
    import pty
    import subprocess
    import sys

    main_file = connect.demo_files(fltr_sqlite_template, FLTR)[MAIN]
    terminal, stderr = pty.openpty()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "adminui",
            "--url",
            f"sqlite:///{main_file}",
            "orphans",
            "scan",
            "--format",
            "json",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=120,
        check=False,
    )
    os.close(stderr)
    said = os.read(terminal, 65536).decode()
    os.close(terminal)
    assert done.returncode == 0, said
    assert "adminui: product: fltr (seeds 003, 004), recognised by its tables" in said
    assert json.loads(done.stdout)[0]["check"] == "sessions.user_id"


def test_the_ledger_pages_through_every_row_newest_first(
    fltr: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 7 under each filter give exactly the rows the filter names, newest first by
    (created_at, id), each once: a page boundary inside rows of the same second included."""
    from datetime import timedelta

    since = FIXTURE_NOW - timedelta(days=10)
    tied = f"{FIXTURE_NOW - timedelta(days=2):%Y-%m-%d %H:%M:%S}"  # 12 rows of one second
    execute(
        fltr,
        "INSERT INTO credit_transactions (user_id, amount, type, operation, created_at) VALUES "
        + ", ".join([f"('usr_twin', -1, 'usage', 'mcp_query', '{tied}')"] * 12),
    )
    cases = {
        (("kind", "usage"),): "type = 'usage'",
        (("user", "ada.twin@example.com"),): "user_id = 'usr_twin'",
        (("operation", "mcp_query"), ("since", since)): (
            f"operation = 'mcp_query' AND created_at >= '{since:%Y-%m-%d %H:%M:%S}'"
        ),
    }
    for filters, where in cases.items():
        expected = [
            int(row[0])
            for row in rows_sql(
                fltr,
                f"SELECT id FROM credit_transactions WHERE {where} "
                "ORDER BY created_at DESC, id DESC",
            )
        ]
        seen, after = [], None
        while True:
            found = ledger.page(fltr, **dict(filters), after=after, limit=7)
            seen += [row.id for row in found.rows]
            if found.after is None:
                break
            after = found.after
        assert seen == expected and expected


def test_the_balance_check_finds_the_balances_that_are_not_their_ledgers_sum(
    fltr: Database,
) -> None:
    sums: dict[str, int] = {}
    for user, amount in rows_sql(fltr, "SELECT user_id, amount FROM credit_transactions"):
        sums[user] = sums.get(user, 0) + amount
    balances = rows_sql(fltr, "SELECT user_id, credits FROM user_credits")
    wrong = sorted(user for user, credits in balances if credits != sums.get(user, 0))
    found = ledger.balance_check(fltr, limit=1000)
    assert [row.user_id for row in found.rows] == wrong and wrong  # every 97th user, +25
    assert (found.unbalanced, found.balances) == (len(wrong), len(balances))
    assert {row.difference for row in found.rows} == {25}


def test_usage_by_operation_and_month_add_up_to_the_ledger(fltr: Database) -> None:
    found = ledger.usage(fltr)
    used = rows_sql(
        fltr,
        "SELECT operation, -SUM(amount) FROM credit_transactions WHERE type = 'usage' "
        "GROUP BY operation",
    )
    assert {(r.operation, r.credits_used) for r in found.by_operation} == set(used)
    assert sum(r.transactions for r in found.by_month) == count_sql(
        fltr, "SELECT count(*) FROM credit_transactions"
    )
    assert sum(r.purchased for r in found.by_month) == count_sql(
        fltr, "SELECT SUM(amount) FROM credit_transactions WHERE type = 'purchase'"
    )


def test_the_ledger_is_fltr_s_job_not_idea_expansion_s(db: Database, capsys) -> None:
    url = (
        db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
        if db.dialect == "postgresql"
        else f"sqlite:///{db.profile.url.database}"
    )
    code, out, err = run(capsys, "--url", url, "ledger", "check")
    assert (code, out) == (1, "") and "has no ledger job" in err


def test_a_value_an_integer_column_holds_is_never_rounded_or_refused(fltr: Database) -> None:
    """SQLite keeps what it is given: 2.5 or 'n/a' in an INTEGER column. The lookup shows them as
    they are (a whole 7.0 or '7' as 7), rather than 2 or a crash; its panel too."""
    from adminui.tui.cells import fact

    execute(
        fltr,
        "UPDATE user_credits SET credits = 2.5 WHERE user_id = 'usr_1'",
        "UPDATE user_credits SET credits = 7.0 WHERE user_id = 'usr_2'",
    )
    if fltr.dialect == "sqlite":
        execute(fltr, "UPDATE user_credits SET credits = 'n/a' WHERE user_id = 'usr_3'")
    shown = {u: users.get_user_detail(fltr, u).credits for u in ("usr_1", "usr_2", "usr_3")}
    # PostgreSQL's INTEGER rounds 2.5 itself, on write; SQLite keeps it.
    assert shown["usr_1"] == (2.5 if fltr.dialect == "sqlite" else 3)
    assert shown["usr_2"] == 7 and isinstance(shown["usr_2"], int)
    if fltr.dialect == "sqlite":
        assert shown["usr_3"] == "n/a"
        assert fact("{credits:,} credits", {"credits": shown["usr_3"]}) == "n/a credits"
