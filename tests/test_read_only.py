"""Read-only (issue #8, part 3): the app connected as a role that holds only SELECT grants.

With `read_only = true` every read command and screen works, and every write is refused by the
app before a write statement reaches the server (the server's statement log for the role shows
none). With `read_only = false` the same role's writes reach the database, which refuses them
(permission denied): told in one sentence, nothing written. Both layers hold on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, Static

from adminui.config import Config, Profile, normalize_url
from adminui.db import Database
from adminui.errors import ReadOnlyError
from adminui.ops import backups, credits, orphans, users
from adminui.tui.app import AdminApp
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen
from adminui.tui.grant import GrantScreen
from adminui.tui.orphans import OrphanCheckScreen
from tests.conftest import needle, run, scalar
from tests.orphan_rows import plant
from tests.pg_cluster import PgServer
from tests.roles import WRITE_WORDS, Role, login_role
from tests.test_tui import shown, table_emails, wait_until
from tests.test_tui_credits import queue_rows
from tests.test_tui_orphans import open_check

READER_PASSWORD = "reader-only-password"
TABLES = (
    "users",
    "usage_tracking",
    "payment_receipts",
    "ideas",
    "executions",
    "outputs",
    "blog_posts",
    "credentials",
)
ORPHAN_CHECK = "ideas.user_id"

# Every read command, with {placeholders} filled from the fixture data.
READS = [
    ("users", "find", "{needle}"),
    ("users", "show", "{email}"),
    ("payments", "summary", "--by", "status"),
    ("payments", "summary", "--by", "month"),
    ("payments", "summary", "--by", "user"),
    ("payments", "list"),
    ("executions",),
    ("executions", "--status", "failed"),
    ("executions", "summary"),
    ("executions", "stuck"),
    ("executions", "show", "{execution}"),
    ("receipts", "pending"),
    ("orphans", "scan"),
    ("orphans", "show", ORPHAN_CHECK),
    ("orphans", "fks"),
    ("orphans", "indexes"),
    # The fixture runs without Supabase's row-level security, and its keys were dropped to plant
    # orphans: left out, nothing else drifted.
    ("schema", "check", "--format", "json", "--ignore", "rls_disabled,missing_policy,missing_fk"),
]
# Every write command.
WRITES = {
    "grant": ("grant", "{email}", "5", "5.00", "--ref", "BMC-READER", "--yes"),
    "verify": ("receipts", "verify", "{pending}", "--yes"),
    "refund": (
        "receipts",
        "refund",
        "{verified}",
        "--reason",
        "reader test",
        "--accept-shortfall",
        "--yes",
    ),
    "clean": ("orphans", "clean", ORPHAN_CHECK, "--yes", "--backup", "{tmp}/reader.jsonl"),
    "restore": ("orphans", "restore", "{backup}", "--yes"),
}


@pytest.fixture
def reader(pg_server: PgServer, pg_db: Database) -> Iterator[Role]:
    """A login role with SELECT on every table and nothing else, on a database with planted
    orphan rows (so the orphan screens and `orphans clean` have rows to act on)."""
    plant(pg_db, ORPHAN_CHECK, 2)
    with login_role(
        pg_server, pg_db.profile.url.database, READER_PASSWORD, select_only=True
    ) as role:
        yield role


@pytest.fixture
def config(reader: Role, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles `ro` (read_only = true) and `rw` (read_only = false), both as the reader."""
    path = tmp_path / "reader.toml"
    path.write_text(
        f'[profiles.ro]\nurl = "{reader.url()}"\nread_only = true\n'
        f'[profiles.rw]\nurl = "{reader.url()}"\nread_only = false\n'
    )
    monkeypatch.setenv("ADMINUI_PASSWORD", READER_PASSWORD)
    return path


def fingerprint(db: Database) -> dict[str, object]:
    """Every table's rows, hashed: equal fingerprints mean nothing was written."""
    return {
        table: scalar(
            db,
            f"SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t",
        )
        for table in TABLES
    }


def values(db: Database, tmp_path: Path) -> dict[str, str]:
    """What the commands' {placeholders} stand for in this database."""
    check = orphans.get_check(ORPHAN_CHECK)
    backup = tmp_path / "superuser.jsonl"
    # A backup of orphans that are gone, written and cleaned by a writable profile: restoring
    # it would insert rows. The orphans planted again stay for `orphans clean`.
    saved = backups.backup(db, check, backup)
    orphans.clean(db, saved, "superuser")
    plant(db, ORPHAN_CHECK, 2)
    return {
        "needle": needle(db),
        "email": users.recent_users(db, 1).rows[0].email,
        "execution": str(scalar(db, "SELECT id FROM executions ORDER BY started_at LIMIT 1")),
        "pending": credits.pending_receipts(db)[0].id,
        "verified": str(
            scalar(db, "SELECT id FROM payment_receipts WHERE status = 'verified' LIMIT 1")
        ),
        "tmp": str(tmp_path),
        "backup": str(backup),
    }


def argv(command: tuple[str, ...], filled: dict[str, str], config: Path, profile: str) -> list[str]:
    return [part.format(**filled) for part in command] + [
        "--config",
        str(config),
        "--profile",
        profile,
    ]


@pytest.mark.parametrize("command", READS, ids=lambda c: " ".join(c))
def test_every_read_command_works_as_a_select_only_role(
    reader: Role, pg_db: Database, config: Path, tmp_path: Path, capsys, command: tuple[str, ...]
) -> None:
    """Reads need nothing but SELECT (the per-transaction set_config too) and open read-only
    transactions: a read command on the read-only profile prints its result."""
    filled = values(pg_db, tmp_path)
    offset = reader.log_offset()
    code, out, err = run(capsys, *argv(command, filled, config, "ro"))
    assert code == 0, err
    assert out.strip() and "adminui:" not in err
    logged = reader.statements_since(offset)
    assert any("SELECT" in line for line in logged)  # the log does see this role's statements
    assert not [line for line in logged if WRITE_WORDS.search(line)]


@pytest.mark.parametrize("write", WRITES)
def test_the_app_refuses_every_write_before_the_database(
    reader: Role, pg_db: Database, config: Path, tmp_path: Path, capsys, write: str
) -> None:
    """read_only = true: the app's own sentence, exit 1, and the server never saw a write
    statement (nor a row lock or advisory lock) from this role."""
    filled = values(pg_db, tmp_path)
    before = fingerprint(pg_db)
    offset = reader.log_offset()
    code, out, err = run(capsys, *argv(WRITES[write], filled, config, "ro"))
    said = "adminui: Profile 'ro' is read-only (read_only = true); nothing was written.\n"
    assert (code, err) == (1, said), out + err
    assert not [line for line in reader.statements_since(offset) if WRITE_WORDS.search(line)]
    assert fingerprint(pg_db) == before
    assert not (tmp_path / "reader.jsonl").exists()  # no backup for a clean that can't happen


@pytest.mark.parametrize("write", WRITES)
def test_a_select_only_role_is_read_only_from_the_start(
    reader: Role, pg_db: Database, config: Path, tmp_path: Path, capsys, write: str
) -> None:
    """read_only = false on the same SELECT-only role: adminui learns at connect that the
    role may only read (issue 14.4: it used to fail each write with 'permission denied'),
    says so in one sentence, and no write reaches the server. (The database's own refusal,
    where adminui doesn't know, is tested through the app below.)"""
    filled = values(pg_db, tmp_path)
    before = fingerprint(pg_db)
    offset = reader.log_offset()
    code, _, err = run(capsys, *argv(WRITES[write], filled, config, "rw"))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("adminui: Profile 'rw' is read-only (its role ") and "may only" in err
    assert not [line for line in reader.statements_since(offset) if WRITE_WORDS.search(line)]
    assert fingerprint(pg_db) == before


async def test_the_app_as_a_select_only_role_reads_every_screen_and_offers_no_write(
    reader: Role, pg_db: Database, tmp_path: Path
) -> None:
    """The TUI on the read-only profile: users, a user's detail, the pending queue, payments,
    executions and an orphan check all load; the write keys do nothing and nothing changes."""
    values(pg_db, tmp_path)
    before = fingerprint(pg_db)
    url = normalize_url(reader.url(), "test")
    db = Database(Profile(name="ro", url=url, read_only=True), READER_PASSWORD)
    user = users.recent_users(pg_db, 1).rows[0]
    pending = credits.pending_receipts(pg_db)
    app = AdminApp(db, Config())
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: len(table_emails(app)) > 0)
            assert app.sub_title.endswith("· read-only")
            app.open_user(user.id)
            await wait_until(pilot, lambda: getattr(app.screen, "email", None) == user.email)
            assert app.screen.check_action("grant", ()) is None
            await pilot.press("g")
            await pilot.pause()
            assert not isinstance(app.screen, GrantScreen)
            app.open_grant(user.email)
            await pilot.pause()
            assert "read-only" in shown(app.screen.query_one("#banner", Static))
            assert app.screen.query_one("#preview", Button).disabled
            app.action_user_lookup()
            app.open_pending()
            await wait_until(pilot, lambda: queue_rows(app) == len(pending))
            for key in ("v", "x"):
                await pilot.press(key)
                await pilot.pause(0.1)
                assert not isinstance(app.screen, ConfirmScreen | ReasonScreen)
            app.action_user_lookup()
            app.open_payments()
            await wait_until(
                pilot,
                lambda: any(t.row_count for t in app.screen.query(DataTable).results(DataTable)),
            )
            app.action_user_lookup()
            app.open_executions()
            await wait_until(
                pilot,
                lambda: any(
                    t.row_count for t in app.screen.query("#runs-table").results(DataTable)
                ),
            )
            app.action_user_lookup()
            screen = await open_check(app, pilot, ORPHAN_CHECK)
            assert screen.count == 2
            await pilot.press("c")
            await pilot.pause(0.1)
            assert isinstance(app.screen, OrphanCheckScreen)
    finally:
        db.dispose()
    assert fingerprint(pg_db) == before


async def test_the_app_on_a_writable_profile_shows_the_databases_refusal(
    reader: Role, pg_db: Database, tmp_path: Path
) -> None:
    """read_only = false as the SELECT-only role: a verify confirmed in the pending queue
    reaches the server, which refuses it; the operator sees that in one sentence, the queue
    stays as it was and nothing is written."""
    before = fingerprint(pg_db)
    pending = credits.pending_receipts(pg_db)
    url = normalize_url(reader.url(), "test")
    db = Database(Profile(name="rw", url=url), READER_PASSWORD)
    app = AdminApp(db, Config())
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: len(table_emails(app)) > 0)
            app.open_pending()
            await wait_until(pilot, lambda: queue_rows(app) == len(pending))
            await pilot.press("v")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")

            def errors() -> list[str]:
                return [n.message for n in app._notifications if n.severity == "error"]

            await wait_until(pilot, lambda: bool(errors()))
            (said,) = errors()
            assert said.startswith("Not verified: The database refused it:"), said
            assert "[lock_receipt, credits.sql:" in said
            assert "permission denied for table payment_receipts" in said and "\n" not in said
            assert queue_rows(app) == len(pending)
    finally:
        db.dispose()
    assert fingerprint(pg_db) == before


def test_a_select_only_role_is_learned_at_connect_and_the_app_says_so(
    reader: Role, pg_db: Database
) -> None:
    db = Database(Profile(name="rw", url=normalize_url(reader.url(), "test")), READER_PASSWORD)
    assert not db.read_only  # the profile does not say so
    db.check()
    assert db.read_only and "may only read" in db.read_only_why
    assert "read-only" in AdminApp(db, Config()).sub_title
    with pytest.raises(ReadOnlyError, match=r"Profile 'rw' is read-only \(its role"):
        grant = credits.parse_grant(5, "5.00", "BMC-RO-LEARNED", max_credits=10)
        credits.grant_credits(db, credits.pending_receipts(db)[0].user_id, grant, "op")
    db.dispose()
