"""Faults on a real PostgreSQL server: a connection killed in the middle of each write, a slow
query stopped from the TUI with Esc (and really stopped on the server), the statement timeout,
and the server restarted under an open app. Nothing partial is ever written, nothing hangs."""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from adminui.db import ConnectionLostError, Database
from adminui.errors import SetupError
from adminui.ops import backups, credits, orphans
from adminui.queries import DEFAULT_PACK, Registry, default_query_dir
from adminui.tui.app import AdminApp
from bench.delay_proxy import DelayProxy
from tests.conftest import (
    PG_PASSWORD,
    lone_pending_receipt,
    needle,
    raw_engine,
    scalar,
    with_registry,
)
from tests.orphan_rows import plant, table_rows
from tests.test_tui import shown, wait_until

APP_BACKENDS = (
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'adminui' "
    "AND datname = current_database() AND pid <> pg_backend_pid()"
)


def kill_app_connections(db: Database) -> int:
    """Terminate every backend of the app on this database, from outside (a network cut)."""
    engine = raw_engine(db)
    with engine.connect() as conn:
        pids = [r[0] for r in conn.execute(text(APP_BACKENDS))]
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    engine.dispose()
    return len(pids)


def kill_once(
    db: Database,
    call: Callable[[], object],
    started: Callable[[], object],
    what: str,
    kill: Callable[[], object] | None = None,
) -> BaseException | None:
    """Run `call` in a thread; once `started()` says it is `what` (waiting, sleeping), kill the
    app's connections (or `kill` them another way). What it raised."""
    raised: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as error:  # handed to the test
            raised.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    deadline = time.monotonic() + 10
    while not started():
        assert thread.is_alive(), f"it ended before it was {what}: {raised}"
        assert time.monotonic() < deadline, f"it was never {what}"
        time.sleep(0.02)
    (kill or (lambda: kill_app_connections(db)))()
    thread.join(10)
    assert not thread.is_alive(), "it hung after its connection was killed"
    return raised[0] if raised else None


def kill_when_waiting(db: Database, write: Callable[[], object]) -> BaseException | None:
    """Run `write` in a thread; once its backend waits for a lock, kill it. What it raised."""
    engine = raw_engine(db)
    waiting = text(f"{APP_BACKENDS} AND wait_event_type = 'Lock'")
    # Autocommit: pg_stat_activity is read once per transaction, so polling inside one would
    # never see the write start waiting after the first look.
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return kill_once(db, write, lambda: conn.execute(waiting).all(), "waiting for a lock")
    finally:
        engine.dispose()


def test_a_verify_cut_off_mid_transaction_changes_nothing(pg_db: Database) -> None:
    receipt = lone_pending_receipt(pg_db)
    engine = raw_engine(pg_db)
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM usage_tracking FOR UPDATE"))  # the verify waits here
    before = table_rows(pg_db, "payment_receipts"), table_rows(pg_db, "usage_tracking")
    error = kill_when_waiting(pg_db, lambda: credits.verify_receipt(pg_db, receipt, "op"))
    holder.rollback()
    holder.close()
    engine.dispose()
    assert isinstance(error, ConnectionLostError) and "nothing was changed" in str(error)
    assert (table_rows(pg_db, "payment_receipts"), table_rows(pg_db, "usage_tracking")) == before


def test_a_refund_cut_off_mid_transaction_changes_nothing(pg_db: Database) -> None:
    receipt = str(
        scalar(pg_db, "SELECT id FROM payment_receipts WHERE status = 'verified' LIMIT 1")
    )
    engine = raw_engine(pg_db)
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM usage_tracking FOR UPDATE"))
    before = table_rows(pg_db, "payment_receipts"), table_rows(pg_db, "usage_tracking")
    error = kill_when_waiting(
        pg_db,
        lambda: credits.refund_receipt(pg_db, receipt, "cut", "op", accept_shortfall=True),
    )
    holder.rollback()
    holder.close()
    engine.dispose()
    assert isinstance(error, ConnectionLostError)
    assert (table_rows(pg_db, "payment_receipts"), table_rows(pg_db, "usage_tracking")) == before


def test_a_clean_cut_off_between_batches_changes_nothing(
    pg_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orphans, "BATCH", 2)
    plant(pg_db, "ideas.user_id", 5)
    saved = backups.backup(pg_db, orphans.get_check("ideas.user_id"), tmp_path / "b.jsonl")
    before = table_rows(pg_db, "ideas")
    with pytest.raises(ConnectionLostError, match="nothing was changed"):
        orphans.clean(pg_db, saved, "op", progress=lambda done, _: kill_app_connections(pg_db))
    assert table_rows(pg_db, "ideas") == before
    assert orphans.clean(pg_db, saved, "op").acted_on == 5  # and it works once retried


def _read_cut_off(db: Database, tmp_path: Path, when: str) -> BaseException | None:
    """A read transaction whose connection is killed `when`; what it raised."""
    if when == "while a statement runs":
        slow = with_registry(db, slow_registry(tmp_path))
        try:
            return kill_once(
                slow, lambda: slow.rows("recent_users", limit=5), lambda: sleeping(db), "sleeping"
            )
        finally:
            slow.dispose()
    try:
        with db.read() as tx:
            tx.rows("recent_users", limit=5)
            kill_app_connections(db)
            if when == "between two statements":
                tx.rows("find_users", pattern="%a%", id_low=None, id_high=None, limit=5)
    except BaseException as error:  # handed to the test
        return error
    return None


@pytest.mark.parametrize(
    ("when", "during", "named"),
    [
        ("while a statement runs", "reading from it", " [recent_users, users.sql:"),
        ("between two statements", "reading from it", " [find_users, users.sql:"),
        ("after the last statement", "ending a read", ""),
    ],
)
def test_a_read_cut_off_says_the_connection_was_lost_and_nothing_changed(
    pg_db: Database, tmp_path: Path, when: str, during: str, named: str
) -> None:
    """It had connected: not the connect advice ("Could not connect ..."), but where and during
    what the connection went, and that a read changed nothing; and the next read works."""
    error = _read_cut_off(pg_db, tmp_path, when)
    assert isinstance(error, ConnectionLostError), repr(error)
    assert str(error).startswith(
        f"Lost the connection to {pg_db.profile.where} while {during}: nothing was changed. "
        f"Retry when the database is back.{named}"
    )
    assert pg_db.rows("recent_users", limit=1)


def test_a_read_cut_off_mid_statement_is_not_sent_again(pg_db: Database, tmp_path: Path) -> None:
    """A read whose connection drops while the server runs it is told, not sent once more (only
    one dropped before the server read anything is): the server may still be running the first,
    and a read heavy enough to bring a connection down should not go twice. The network goes
    away without a word (the proxy drops the client's end); the server's backend sleeps on."""
    slow = with_registry(pg_db, slow_registry(tmp_path))
    url = pg_db.profile.url
    with DelayProxy(url.host or "127.0.0.1", url.port or 5432, 0) as proxy:
        far = Database(
            dataclasses.replace(slow.profile, url=url.set(port=proxy.port)),
            PG_PASSWORD,
            slow.registry,
        )
        try:
            read = lambda: far.rows("recent_users", limit=5)  # noqa: E731
            error = kill_once(pg_db, read, lambda: sleeping(pg_db), "sleeping", proxy.cut)
            assert isinstance(error, ConnectionLostError), repr(error)
            assert sleeping(pg_db) == 1, "the read was sent a second time"
        finally:
            scalar(
                pg_db,
                "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
            )
            far.dispose()
            slow.dispose()


def test_a_read_that_cannot_connect_keeps_the_connect_advice(pg_db: Database) -> None:
    """Nothing listening at all is still told as a connect failure, with its advice."""
    nowhere = Database(
        dataclasses.replace(pg_db.profile, url=pg_db.profile.url.set(port=1), connect_timeout=3)
    )
    with pytest.raises(SetupError, match=r"^Nothing accepted a connection at 127\.0\.0\.1:1/"):
        nowhere.rows("recent_users", limit=1)


def slow_registry(tmp_path: Path) -> Registry:
    """The vetted queries, with the home screen's list made to sleep 30 s on the server."""
    queries = tmp_path / "queries"
    shutil.copytree(default_query_dir(), queries)
    users_sql = queries / DEFAULT_PACK / "users.sql"
    sql = users_sql.read_text()
    head, rest = sql.split("-- name: recent_users", 1)
    rest = rest.replace("FROM users u\n", "FROM users u CROSS JOIN pg_sleep(30) AS slow\n", 1)
    users_sql.write_text(head + "-- name: recent_users" + rest)
    return Registry.load(queries)


def sleeping(db: Database) -> int:
    return int(
        scalar(  # type: ignore[arg-type]
            db,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
        )
    )


def users_matching(db: Database, word: str) -> int:
    """How many users the lookup should find for `word`, counted straight from the tables: its
    email, name or a receipt's reference contains the word (any case), or its id starts with it."""
    return int(
        scalar(  # type: ignore[arg-type]
            db,
            "SELECT COUNT(*) FROM users u WHERE strpos(lower(u.email), :w) > 0 "
            "OR strpos(lower(u.name), :w) > 0 OR starts_with(u.id::text, :w) "
            "OR EXISTS (SELECT 1 FROM payment_receipts r WHERE r.user_id = u.id "
            "AND strpos(lower(r.bmc_reference), :w) > 0)",
            w=word,
        )
    )


async def until_sleeping(db: Database, pilot: Pilot) -> None:
    """Let the app run until its slowed statement sleeps on the server."""
    deadline = time.monotonic() + 10
    while not sleeping(db):
        assert time.monotonic() < deadline, "the slow query never started"
        await pilot.pause(0.05)


async def test_esc_stops_a_slow_query_on_the_server(pg_db: Database, tmp_path: Path) -> None:
    slow = with_registry(pg_db, slow_registry(tmp_path))
    app = AdminApp(slow)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#status", Static)
        await until_sleeping(pg_db, pilot)
        started = time.monotonic()
        await pilot.press("escape")
        await wait_until(pilot, lambda: "at your request" in shown(status))
        assert time.monotonic() - started < 5  # not the 30 s the query would take
        assert sleeping(pg_db) == 0  # stopped on the server, not just abandoned
        word = needle(pg_db)
        await pilot.press(*word)  # and the screen still works: it finds what the text matches
        matching = users_matching(pg_db, word)
        found = f"{matching} user{'' if matching == 1 else 's'} found."
        await wait_until(pilot, lambda: shown(status).strip() == found)
        assert app.screen.query_one("#search", Input).value == word
    slow.dispose()


async def test_a_search_stopped_with_esc_leaves_no_stale_results(
    pg_db: Database, tmp_path: Path
) -> None:
    """Esc stopped a search, and the rows of the search before stayed under the new text."""
    slow = with_registry(pg_db, slow_registry(tmp_path), statement_timeout_ms=20_000)
    app = AdminApp(slow)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#status", Static)
        await until_sleeping(pg_db, pilot)
        await pilot.press("escape")  # the slow home list first: stopped
        await wait_until(pilot, lambda: "at your request" in shown(status))
        word = needle(pg_db)
        await pilot.press(*word)  # a search that answers (find_users is not slowed)
        table = app.screen.query_one("#results", DataTable)
        await wait_until(pilot, lambda: "found" in shown(status) and table.row_count > 0)
        # Emptied in one change (to the line's start, delete to its end): the slow list again.
        # Key by key, a loaded machine could space the keys past the debounce and start a
        # list for each shorter text, one of them after the Esc below.
        await pilot.press("ctrl+a", "ctrl+k")
        await until_sleeping(pg_db, pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "at your request" in shown(status))
        assert table.row_count == 0  # the earlier search's rows are gone, not shown as its
    slow.dispose()


async def test_the_statement_timeout_is_told_and_the_screen_goes_on(
    pg_db: Database, tmp_path: Path
) -> None:
    slow = with_registry(pg_db, slow_registry(tmp_path), statement_timeout_ms=300)
    app = AdminApp(slow)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#status", Static)
        await wait_until(pilot, lambda: "statement_timeout_ms (300 ms)" in shown(status))
        await pilot.press(*needle(pg_db))
        await wait_until(pilot, lambda: "statement_timeout" not in shown(status))
        assert app.screen.query_one("#search", Input).value == needle(pg_db)
    slow.dispose()


async def test_a_server_gone_and_back_is_told_and_a_retry_works(pg_server, pg_db: Database) -> None:
    """The server stops under an open app: the next search says so in one sentence (no hang,
    no traceback); once the server is back, typing again (a retry) works."""
    app = AdminApp(pg_db)
    word = needle(pg_db)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#status", Static)
        await wait_until(pilot, lambda: "Loading" not in shown(status))
        pg_server.stop()
        try:
            await pilot.press(*word)
            # The last keystroke's search failed (an earlier one's error may still be shown
            # while it runs: wait for the answer, not just the colour).
            await wait_until(
                pilot, lambda: status.has_class("error") and "Searching" not in shown(status)
            )
            told = shown(status)
            assert f"127.0.0.1:{pg_server.port}" in told or "Lost the connection" in told
            assert told.count("\n") == 1 and "Traceback" not in told
        finally:
            pg_server.start()
        await pilot.press("backspace", word[-1])  # the operator types again: a retry
        await wait_until(
            pilot, lambda: not status.has_class("error") and "Search" not in shown(status)
        )
        assert "users found" in shown(status) or "user found" in shown(status)
