"""Keys a person can find (issue 14.3): every screen's footer names Esc and what it does, `?`
opens (and Esc closes) the panel of every key, the lookup's footer names ↓ and Enter, and the
orphan screen's tabs hand the focus to their table."""

from __future__ import annotations

from textual.widgets import DataTable, HelpPanel

from adminui.db import Database
from adminui.tui.app import AdminApp
from adminui.tui.user_detail import UserDetailScreen
from adminui.tui.user_lookup import UserLookupScreen
from tests.test_tui import wait_until
from tests.test_tui_orphans import open_orphans


def footer(app: AdminApp) -> dict[str, str]:
    """The keys the footer shows, by key, with what each says."""
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.binding.show
    }


async def test_the_footers_name_esc_and_the_lookups_enter_and_down(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one("#results", DataTable).row_count)
        keys = footer(app)
        assert (keys["escape"], keys["down"], keys["enter"]) == ("Clear", "Results", "Open")
        await pilot.press("down")
        assert footer(app)["enter"] == "Open"  # the results have the focus now
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, UserDetailScreen))
        assert footer(app)["escape"] == "Back"
        for opener in (app.open_orphans, app.open_payments, app.open_executions, app.open_grant):
            app.action_user_lookup()
            opener()
            await pilot.pause(0.2)
            await wait_until(pilot, lambda: app.db.running == 0)  # then Esc is the screen's
            assert footer(app).get("escape", "").startswith("Back"), opener.__name__


async def test_question_mark_opens_the_keys_and_esc_closes_them_in_place(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one("#results", DataTable).row_count)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, UserDetailScreen))
        await pilot.press("question_mark")
        assert app.screen.query(HelpPanel)
        await pilot.press("escape")  # closes the panel, stays on the screen
        assert not app.screen.query(HelpPanel) and isinstance(app.screen, UserDetailScreen)
        await pilot.press("question_mark", "question_mark")  # `?` toggles
        assert not app.screen.query(HelpPanel)
        await pilot.press("escape")  # and now Esc is the screen's own: back
        await wait_until(pilot, lambda: isinstance(app.screen, UserLookupScreen))


async def test_a_question_mark_typed_in_the_search_is_text(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a", "question_mark")
        assert app.screen.query_one("#search").value == "a?"
        assert not app.screen.query(HelpPanel)


async def test_switching_orphan_tabs_hands_the_focus_to_their_table(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_orphans(app, pilot)
        await pilot.press("k")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "drift"
        await pilot.press("o")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "counts"
