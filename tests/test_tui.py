"""The app driven as a person would: type, press keys, read what the widgets show."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from rich.console import Console
from rich.text import Text
from sqlalchemy import text
from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import WorkerCancelled

from adminui.db import Database
from adminui.ops import users
from adminui.tui.app import AdminApp
from adminui.tui.user_detail import UserDetailScreen
from adminui.tui.user_lookup import UserLookupScreen
from tests.conftest import needle, raw_engine


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until `condition` holds (workers finished, screen updated)."""
    waited = 0.0
    while not condition():
        assert waited < timeout, "the app never reached the expected state"
        # A worker replaced by a newer one (exclusive workers) is cancelled: keep waiting.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
        waited += 0.02


def table_emails(app: AdminApp) -> list[str]:
    table = app.screen.query_one("#results", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def shown(widget: Static) -> str:
    """The text a Static shows, however its content is built."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def status(app: AdminApp) -> str:
    return str(app.screen.query_one("#status", Static).content)


async def test_first_paint_lists_the_newest_users(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        expected = [row.email for row in users.recent_users(db).rows]
        await wait_until(pilot, lambda: table_emails(app) == expected)
        assert status(app) == f"Newest {len(expected)} users."
        assert isinstance(app.focused, Input)


async def test_typing_searches_and_a_short_text_gives_a_hint(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        await pilot.press(*needle(db))
        found = users.find_users(db, needle(db))
        expected = [row.email for row in found.rows]
        # A shorter prefix may have found the same rows while the last search still runs.
        await wait_until(
            pilot, lambda: table_emails(app) == expected and status(app) != "Searching…"
        )
        assert status(app) == f"{found.describe()} found." and expected
        await pilot.press("ctrl+a", "ctrl+k", "l")  # select all, delete, one character
        await wait_until(pilot, lambda: "Type 3 or more characters" in status(app))
        assert table_emails(app) == [row.email for row in users.recent_users(db).rows]
        await pilot.press(*"zzzz-no-such")
        await wait_until(pilot, lambda: status(app) == "No user matches.")
        assert table_emails(app) == []


async def test_a_stale_result_never_overwrites_a_newer_one(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test() as pilot:
        await pilot.press(*needle(db))
        expected = [row.email for row in users.find_users(db, needle(db)).rows]
        await wait_until(pilot, lambda: table_emails(app) == expected)
        screen = app.screen
        assert isinstance(screen, UserLookupScreen)
        # A slow answer to an earlier keystroke arrives late: it must be ignored.
        stale = users.find_users(db, "example")
        screen.post_message(UserLookupScreen.Loaded(1, stale, "stale"))
        await pilot.pause()
        assert table_emails(app) == expected


async def test_open_a_user_and_go_back(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*needle(db))
        first = users.find_users(db, needle(db)).rows[0]
        await wait_until(pilot, lambda: table_emails(app)[:1] == [first.email])
        await pilot.press("down", "enter")
        assert isinstance(app.screen, UserDetailScreen)
        detail = users.get_user_detail(db, first.id)
        await wait_until(pilot, lambda: app.screen.sub_title == first.email)
        profile = shown(app.screen.query_one("#profile", Static))
        assert first.email in profile and first.id in profile
        executions = app.screen.query_one("#executions", DataTable)
        assert executions.row_count == max(1, len(detail.recent_executions))
        receipts = app.screen.query_one("#receipts", DataTable)
        assert receipts.row_count == max(1, len(detail.receipts))
        await pilot.press("escape")
        assert isinstance(app.screen, UserLookupScreen)
        assert app.screen.query_one("#search", Input).value == needle(db)


async def test_enter_opens_the_only_match(db: Database) -> None:
    only = users.recent_users(db, 1).rows[0]
    app = AdminApp(db)
    async with app.run_test() as pilot:
        await pilot.press(*only.email)
        screen = app.screen
        assert isinstance(screen, UserLookupScreen)
        await wait_until(pilot, lambda: screen.up_to_date)
        assert table_emails(app) == [only.email]
        await pilot.press("enter")
        assert isinstance(app.screen, UserDetailScreen) and app.screen.user_id == only.id


async def test_database_text_is_shown_literally(db: Database) -> None:
    with db.write() as tx:
        tx.run(
            "insert_user",
            id=str(uuid.uuid4()),
            email="markup@example.com",
            name="[bold red]Eve[/]",
            timezone="UTC",
            created_at=datetime.now(UTC),
        )
    app = AdminApp(db)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press(*"markup@")
        await wait_until(pilot, lambda: table_emails(app) == ["markup@example.com"])
        name_cell = app.screen.query_one("#results", DataTable).get_row_at(0)[3]
        assert isinstance(name_cell, Text) and name_cell.plain == "[bold red]Eve[/]"
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen.sub_title == "markup@example.com")
        assert "[bold red]Eve[/]" in shown(app.screen.query_one("#profile", Static))


@pytest.mark.parametrize(
    ("typed", "title", "screen"),
    [
        ("user lookup", "User lookup", "UserLookupScreen"),
        ("grant credits", "Grant credits", "GrantScreen"),
        ("pending receipts", "Pending receipts", "PendingReceiptsScreen"),
        ("payments", "Payments", "PaymentsScreen"),
        ("executions", "Executions", "ExecutionsScreen"),
    ],
)
async def test_the_command_palette_opens_every_screen(
    sqlite_db: Database, typed: str, title: str, screen: str
) -> None:
    app = AdminApp(sqlite_db)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        await pilot.press("down", "enter")
        assert isinstance(app.screen, UserDetailScreen)
        await pilot.press("ctrl+p")
        await pilot.press(*typed)
        palette = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: title in str(palette.get_option_at_index(0).prompt))
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(app.screen).__name__ == screen)


async def test_a_database_error_is_shown_in_one_sentence(sqlite_db: Database) -> None:
    engine = raw_engine(sqlite_db)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE users RENAME TO users_gone"))
    engine.dispose()
    app = AdminApp(sqlite_db)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: "refused" in status(app))
        assert status(app).startswith("The database refused it:")
        assert "[recent_users, users.sql:" in status(app)
        assert "no such table: users" in status(app)


async def test_it_fits_small_and_large_terminals(db: Database) -> None:
    for size in ((80, 24), (200, 60)):
        app = AdminApp(db)
        async with app.run_test(size=size) as pilot:
            await wait_until(pilot, lambda app=app: len(table_emails(app)) > 0)
            await pilot.pause()
            table = app.screen.query_one("#results", DataTable)
            # The three columns support reads first are visible without scrolling sideways.
            first_three = sum(
                table.columns[ColumnKey(label)].get_render_width(table)
                for label in ("Email", "Credits", "Created (UTC)")
            )
            assert table.region.right <= size[0] and first_three <= table.region.width
            assert table.region.height >= min(size[1] - 8, table.row_count)
            await pilot.press("down", "enter")
            await wait_until(
                pilot,
                lambda app=app: (
                    app.screen.sub_title.endswith(".com") or "@" in app.screen.sub_title
                ),
            )
            for panel in ("#profile", "#credits", "#activity"):
                region = app.screen.query_one(panel).region
                assert region.width > 20 and region.right <= size[0], (size, panel)
            wide = size[0] >= 120
            profile, credits = (app.screen.query_one(p).region for p in ("#profile", "#credits"))
            assert (profile.y == credits.y) is wide  # side by side only when there is room
