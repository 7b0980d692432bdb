"""Secrets (issue #8, part 4): a canary password, made up for this run and set through the
keyring, never appears in anything the app writes: stdout and stderr of every command (its
successes and its error paths: wrong password, nothing listening, a missing database, bad
input, not found, a read-only refusal), the audit log, the backups and every other file under
the XDG dirs, the TUI's sub_title and a saved screenshot, nor in the server's log of the
statements the app sent. (That no statement selects credentials.encrypted_value is checked by
tests/test_queries.py.)"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from urllib.parse import quote, quote_plus

import keyring
import pytest
from textual.widgets import DataTable

from adminui.audit import writes
from adminui.config import url_profile
from adminui.connect import open_session
from adminui.db import Database
from adminui.ops import credits, users
from adminui.tui.app import AdminApp
from adminui.tui.dialogs import ConfirmScreen
from tests.conftest import needle, run, scalar
from tests.orphan_rows import plant
from tests.pg_cluster import PgServer
from tests.roles import login_role
from tests.test_tui import table_emails, wait_until
from tests.test_tui_credits import queue_rows
from tests.test_tui_orphans import open_orphans

ORPHAN_CHECK = "ideas.user_id"
PROFILES = ("good", "readonly", "wrong", "down", "nodb")


def canary_forms(canary: str) -> set[str]:
    """The canary as written anywhere: raw, URL-quoted both ways, and its random core alone
    (which any partial or re-encoded leak but base64 still contains)."""
    core = canary.removeprefix("Cn").split("@")[0]
    return {canary, quote(canary, safe=""), quote_plus(canary), core}


def leaks(text: str, canary: str) -> list[str]:
    return [form for form in canary_forms(canary) if form in text]


def write_config(path: Path, role_url: str, superuser_url: str, port: int) -> None:
    down = role_url.replace(f":{port}/", ":1/")
    nodb = role_url.rsplit("/", 1)[0] + "/no_such_database"
    path.write_text(
        'operator = "canary-test"\n'
        f'[profiles.good]\nurl = "{role_url}"\n'
        f'[profiles.readonly]\nurl = "{role_url}"\nread_only = true\n'
        f'[profiles.wrong]\nurl = "{superuser_url}"\n'  # the canary is not its password
        f'[profiles.down]\nurl = "{down}"\nconnect_timeout = 2\n'
        f'[profiles.nodb]\nurl = "{nodb}"\n'
    )


def commands(db: Database) -> list[tuple[int, tuple[str, ...]]]:
    """Every command once on the good profile (reads, then writes), then the error paths; each
    with the exit code it must end with (0 done, 1 refused, 2 could not connect)."""
    email = users.recent_users(db, 1).rows[0].email
    pending = credits.pending_receipts(db)[0].id
    verified = str(scalar(db, "SELECT id FROM payment_receipts WHERE status = 'verified' LIMIT 1"))
    execution = str(scalar(db, "SELECT id FROM executions LIMIT 1"))
    text = needle(db)
    good = ("--profile", "good")
    done = [
        ("users", "find", text, *good),
        ("users", "find", text, "--format", "json", *good),
        ("users", "show", email, "--format", "csv", *good),
        ("users", "show", email, *good),
        ("payments", "summary", *good),
        ("payments", "summary", "--by", "user", "--format", "json", *good),
        ("payments", "list", *good),
        ("executions", *good),
        ("executions", "summary", *good),
        ("executions", "stuck", *good),
        ("executions", "show", execution, *good),
        ("receipts", "pending", *good),
        ("orphans", "scan", *good),
        ("orphans", "show", ORPHAN_CHECK, *good),
        ("orphans", "fks", *good),
        ("orphans", "indexes", *good),
        ("schema", "check", "--ignore", "rls_disabled,missing_policy,missing_fk", *good),
        ("grant", email, "3", "3.00", "--ref", "BMC-CANARY", "--yes", *good),
        ("receipts", "verify", pending, "--yes", "--format", "json", *good),
        (
            "receipts",
            "refund",
            verified,
            "--reason",
            "canary",
            "--accept-shortfall",
            "--yes",
            *good,
        ),
        ("orphans", "clean", ORPHAN_CHECK, "--yes", *good),
    ]
    refused = [  # bad input, not found, a reused reference, a read-only profile
        ("grant", email, "3", "3.00", "--ref", "BMC-CANARY", "--yes", *good),
        ("users", "find", "a", *good),
        ("users", "show", "ghost@example.com", *good),
        ("grant", email, "many", "3.00", "--ref", "BMC-X", "--yes", *good),
        ("executions", "show", "not-an-id", *good),
        ("receipts", "verify", "00000000-0000-0000-0000-000000000000", "--yes", *good),
        ("orphans", "show", "no.such_check", *good),
        ("executions", "--since", "yesterday-ish", *good),
        ("grant", email, "3", "3.00", "--ref", "BMC-RO", "--yes", "--profile", "readonly"),
        ("orphans", "clean", ORPHAN_CHECK, "--yes", "--profile", "readonly"),
    ]
    unconnected = [  # the password refused, nothing listening, no such database or profile
        ("users", "find", text, "--profile", "wrong"),
        ("grant", email, "3", "3.00", "--ref", "BMC-W", "--yes", "--profile", "wrong"),
        ("--profile", "wrong"),  # the app itself: refused before any screen opens
        ("users", "find", text, "--profile", "down"),
        ("receipts", "pending", "--profile", "nodb"),
        ("users", "find", text, "--profile", "nosuchprofile"),
    ]
    return [
        *((0, argv) for argv in done),
        *((1, argv) for argv in refused),
        *((2, argv) for argv in unconnected),
    ]


def every_file(root: Path, skip: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p != skip]


def test_the_canary_password_never_appears(
    pg_server: PgServer, pg_db: Database, tmp_path: Path, capsys, monkeypatch
) -> None:
    """Every command and error path with the canary in the keyring; then every output, file
    and log is searched for it."""
    canary = f"Cn{secrets.token_hex(16)}@/%"  # '@', '/', '%' need quoting in a URL
    plant(pg_db, ORPHAN_CHECK, 2)
    database = pg_db.profile.url.database
    server_log = pg_server.datadir.parent / "log"
    log_start = server_log.stat().st_size
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(audit))
    config = tmp_path / "config.toml"
    monkeypatch.setenv("ADMINUI_CONFIG", str(config))
    store = Path(keyring.get_keyring().file_path)  # type: ignore[attr-defined]
    assert tmp_path in store.parents  # the test's own keyring file, never the developer's
    seen: list[str] = []
    with login_role(pg_server, database, canary, select_only=False) as role:
        write_config(config, role.url(), pg_server.url(database, password=False), pg_server.port)
        for profile in PROFILES:
            monkeypatch.setattr("sys.stdin", io.StringIO(canary + "\n"))
            code, out, err = run(capsys, "password", "set", profile)
            assert code == 0
            seen += [out, err]
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        assert keyring.get_password("adminui", "good") == canary
        quoted = quote(canary, safe="")  # a --url carrying the password, as text in our hands
        in_url = role.url().replace(f"{role.name}@", f"{role.name}:{quoted}@")
        runs = [
            *commands(pg_db),
            (0, ("users", "find", needle(pg_db), "--url", in_url)),
            (2, ("users", "find", "abc", "--url", in_url.replace(f":{pg_server.port}/", ":1/"))),
        ]
        wrong = []
        for expected, argv in runs:
            code, out, err = run(capsys, *argv)
            seen += [out, err]
            if code != expected:
                wrong.append((argv, code, err))
        backups = list((tmp_path / "xdg-data").rglob("backups/*.jsonl"))
        assert len(backups) == 1  # orphans clean wrote its backup to the XDG data dir
        code, out, err = run(
            capsys, "orphans", "restore", str(backups[0]), "--yes", "--profile", "good"
        )
        assert code == 0 and "Restored 2 rows" in out, err
        seen += [out, err]
        for profile in PROFILES:
            code, out, err = run(capsys, "password", "delete", profile)
            seen += [out, err]
    assert not wrong  # every path ran as intended: done, refused or not connected
    assert len(writes(audit)) == 5  # grant, verify, refund, clean, restore
    output = "\n".join(seen)
    assert "refused the password" in output and "Nothing accepted a connection" in output
    assert "does not exist" in output and "read-only" in output
    assert not leaks(output, canary)
    files = every_file(tmp_path, skip=store)
    assert audit in files and backups[0] in files and config in files
    for path in files:
        assert not leaks(path.read_text(encoding="utf-8", errors="replace"), canary), path
    with server_log.open(encoding="utf-8", errors="replace") as handle:
        handle.seek(log_start)
        logged = handle.read()
    assert "password authentication failed" in logged  # the log does cover these sessions
    assert not leaks(logged, canary)


async def drive(app: AdminApp, pending: int, shot: Path) -> str:
    """Open the app's screens, verify the first pending receipt, save a screenshot to `shot`;
    the app's sub_title."""
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        app.open_pending()
        await wait_until(pilot, lambda: queue_rows(app) == pending)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: queue_rows(app) == pending - 1)
        app.action_user_lookup()
        await open_orphans(app, pilot)
        app.action_user_lookup()
        app.open_payments()
        await wait_until(pilot, lambda: any(t.row_count for t in app.screen.query(DataTable)))
        app.save_screenshot(shot.name, str(shot.parent))
        return app.sub_title


async def test_the_canary_stays_out_of_the_app_and_its_screenshot(
    pg_server: PgServer, pg_db: Database, tmp_path: Path, monkeypatch
) -> None:
    """A TUI session on a profile whose password came from the keyring (and one whose --url
    held it): screens, a verify with its audit line, the sub_title and a saved screenshot."""
    canary = f"Cn{secrets.token_hex(16)}@/%"
    plant(pg_db, ORPHAN_CHECK, 1)
    database = pg_db.profile.url.database
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    config = tmp_path / "config.toml"
    store = Path(keyring.get_keyring().file_path)  # type: ignore[attr-defined]
    with login_role(pg_server, database, canary, select_only=False) as role:
        write_config(config, role.url(), pg_server.url(database, password=False), pg_server.port)
        keyring.set_password("adminui", "good", canary)
        in_url = role.url().replace(f"{role.name}@", f"{role.name}:{quote(canary, safe='')}@")
        sessions = [
            open_session(config=str(config), profile="good", url=None, interactive=False),
            open_session(config=None, profile=None, url=in_url, interactive=False),
        ]
        shots, titles = [], []
        try:
            for number, session in enumerate(sessions):
                app = AdminApp(session.db, session.config)
                shots.append(tmp_path / f"shot{number}.svg")
                pending = len(credits.pending_receipts(session.db))
                titles.append(await drive(app, pending, shots[-1]))
        finally:
            for session in sessions:
                session.db.dispose()
    assert titles[0].startswith("good · postgresql+psycopg://")
    assert "***" in titles[1]  # the --url password, masked
    assert all(shot.stat().st_size > 1000 for shot in shots)
    assert not leaks("\n".join(titles), canary)
    audit = (tmp_path / "audit.jsonl").read_text()
    assert len(audit.splitlines()) == 4  # a verify and a grant: intent and outcome each
    for path in every_file(tmp_path, skip=store):
        assert not leaks(path.read_text(encoding="utf-8", errors="replace"), canary), path


@pytest.mark.parametrize("field", ["url", "query", "password"])
def test_a_url_with_a_password_in_the_config_is_refused_without_echoing_it(
    tmp_path: Path, capsys, field: str
) -> None:
    """A password pasted into the config file (in the url, or as an unknown key) is refused,
    and the message quotes neither the URL's secret nor the value."""
    canary = f"Cn{secrets.token_hex(16)}"
    config = tmp_path / "c.toml"
    if field == "url":
        config.write_text(f'[profiles.p]\nurl = "postgresql://admin:{canary}@db.example.com/app"\n')
    elif field == "query":  # libpq would take it over $ADMINUI_PASSWORD and the keyring
        url = f"postgresql://admin@db.example.com/app?sslmode=require&password={canary}"
        config.write_text(f'[profiles.p]\nurl = "{url}"\n')
    else:
        config.write_text(
            f'[profiles.p]\nurl = "postgresql://admin@db.example.com/app"\npassword = "{canary}"\n'
        )
    code, out, err = run(capsys, "users", "find", "abc", "--config", str(config))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert not leaks(err, canary), err


def test_a_password_in_the_url_query_is_the_url_password(
    pg_server: PgServer, pg_db: Database, capsys, monkeypatch
) -> None:
    """libpq reads `?password=` over the password SQLAlchemy passes, so it would beat
    $ADMINUI_PASSWORD and show in every URL printed. In --url it counts as the URL's password:
    masked wherever the URL is shown, used when nothing else gives one, and second to
    $ADMINUI_PASSWORD, as a password in the userinfo is (in a config file both are refused)."""
    canary = f"Cn{secrets.token_hex(16)}@/%"
    with login_role(pg_server, pg_db.profile.url.database, canary, select_only=True) as role:
        in_query = f"{role.url()}?sslmode=disable&password={quote(canary, safe='')}"
        wrong_in_query = f"{role.url()}?password=not-{secrets.token_hex(4)}"
        shown = url_profile(in_query).shown_url
        assert "***" in shown and "sslmode=disable" in shown and not leaks(shown, canary)
        code, out, err = run(capsys, "users", "find", needle(pg_db), "--url", in_query)
        assert code == 0 and out, err
        monkeypatch.setenv("ADMINUI_PASSWORD", canary)
        code, out, err = run(capsys, "users", "find", needle(pg_db), "--url", wrong_in_query)
        assert code == 0 and out, err  # the environment's password won
        monkeypatch.setenv("ADMINUI_PASSWORD", "not-the-password")
        code, out2, err2 = run(capsys, "users", "find", needle(pg_db), "--url", in_query)
        assert code == 2 and "refused the password" in err2
    assert not leaks(out + err + out2 + err2, canary)
