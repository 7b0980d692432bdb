"""The credit ledger screen, driven: its list is the op's pages under the filters typed, a filter
that names nobody empties it and says why, the balance check and usage show the op's rows, and
Enter (or `l` on a user's screen) goes between a user and their ledger."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, Select, TabbedContent

from adminui.db import Database
from adminui.ops import ledger
from adminui.tui.app import AdminApp
from adminui.tui.ledger import LedgerScreen
from adminui.tui.paged_table import PagedTable
from adminui.tui.user_detail import UserDetailScreen
from tests.test_tui import wait_until


def _ids(db: Database, **filters: object) -> list[str]:
    return [str(row.id) for row in ledger.page(db, **filters).rows]  # type: ignore[arg-type]


MOUNTED = {LedgerScreen: "#list", UserDetailScreen: "#detail"}  # a widget each one composes


async def _shown(pilot, kind: type) -> Any:
    """Wait until a screen of `kind` is on top with its widgets mounted; return it."""
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, kind) and app.screen.query(MOUNTED[kind])
    )
    return app.screen


def _status(screen: LedgerScreen, name: str) -> str:
    return str(screen.query_one(f"#{name}-status").render())


async def test_the_list_follows_the_filters_and_says_when_one_names_nobody(
    fltr: Database,
) -> None:
    app = AdminApp(fltr)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        app.open_ledger()
        screen = await _shown(pilot, LedgerScreen)
        listing = screen.query_one("#list", PagedTable)
        await wait_until(pilot, lambda: listing.row_count > 0)
        assert list(listing.loaded) == _ids(fltr)
        screen.query_one("#type", Select).value = "usage"
        screen.query_one("#operation", Input).value = "mcp_query"
        expected = _ids(fltr, kind="usage", operation="mcp_query")
        await wait_until(pilot, lambda: list(listing.loaded) == expected)
        assert expected and {row["operation"] for row in listing.loaded.values()} == {"mcp_query"}
        screen.query_one("#user", Input).value = "nobody@example.com"
        await wait_until(pilot, lambda: "No user has the email" in _status(screen, "list"))
        assert listing.row_count == 0 and listing.loaded == {}
        screen.query_one("#user", Input).value = "ada.twin@example.com"
        screen.query_one("#since", Input).value = "7x"
        await wait_until(pilot, lambda: "'7x' is not a window" in _status(screen, "list"))
        screen.query_one("#since", Input).value = ""
        twin = _ids(fltr, kind="usage", operation="mcp_query", user="ada.twin@example.com")
        await wait_until(pilot, lambda: list(listing.loaded) == twin)


async def test_the_check_and_usage_show_the_op_s_rows_and_enter_opens_the_user(
    fltr: Database,
) -> None:
    check, usage = ledger.balance_check(fltr), ledger.usage(fltr)
    app = AdminApp(fltr)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        app.open_ledger()
        screen = await _shown(pilot, LedgerScreen)
        table = screen.query_one("#check-table", DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        assert [key.value for key in table.rows] == [str(r.user_id) for r in check.rows]
        assert f"{check.unbalanced:,} of {check.balances:,} balances" in _status(screen, "check")
        operations = screen.query_one("#operations-table", DataTable)
        assert [str(operations.get_row_at(i)[0]) for i in range(operations.row_count)] == [
            r.operation for r in usage.by_operation
        ]
        assert screen.query_one("#months-table", DataTable).row_count == len(usage.by_month)
        screen.query_one("#tabs", TabbedContent).active = "check"
        table.focus()
        await pilot.press("down", "enter")
        await _shown(pilot, UserDetailScreen)
        assert app.screen.user_id == check.rows[1].user_id


async def test_a_user_s_screen_opens_their_ledger(fltr: Database) -> None:
    user_id = ledger.page(fltr, kind="purchase").rows[0].user_id
    app = AdminApp(fltr)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        app.open_user(user_id)
        await _shown(pilot, UserDetailScreen)
        await pilot.press("l")
        await _shown(pilot, LedgerScreen)
        listing = app.screen.query_one("#list", PagedTable)
        await wait_until(pilot, lambda: listing.row_count > 0)
        assert list(listing.loaded) == _ids(fltr, user=user_id)
        assert {row["user_id"] for row in listing.loaded.values()} == {user_id}


async def test_idea_expansion_s_user_screen_has_no_ledger_key(db: Database) -> None:
    from adminui.ops import users

    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        app.open_user(users.recent_users(db).rows[0].id)
        await _shown(pilot, UserDetailScreen)
        assert "l" not in app.screen.active_bindings or not app.screen.check_action("ledger", ())
        await pilot.press("l")
        await pilot.pause(0.1)
        assert isinstance(app.screen, UserDetailScreen)
