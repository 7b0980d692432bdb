"""The money screens driven with Pilot: grant from a user's view, the pending queue, refunds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from textual.widgets import Button, DataTable, Input, Label, Static

from adminui.db import Database
from adminui.ops import credits, users
from adminui.tui.app import AdminApp
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen, ReceiptScreen
from adminui.tui.grant import GrantScreen
from adminui.tui.pending_receipts import PendingReceiptsScreen
from adminui.tui.user_detail import UserDetailScreen
from tests.conftest import raw_engine, scalar, with_registry
from tests.test_tui import shown, wait_until

RECEIPTS = "SELECT COUNT(*) FROM payment_receipts"


async def open_detail(app: AdminApp, pilot, user_id: str) -> UserDetailScreen:
    await wait_until(pilot, lambda: app.screen.query("#results"))
    app.open_user(user_id)
    await wait_until(
        pilot, lambda: isinstance(app.screen, UserDetailScreen) and app.screen.email is not None
    )
    assert isinstance(app.screen, UserDetailScreen)
    return app.screen


@dataclass(frozen=True)
class ScreenGrant:
    """What the grant screen showed on the way: its field labels, the preview, the question
    and the receipt read back."""

    labels: list[str]
    preview: str
    question: str
    receipt: str


async def grant_on_screen(db: Database, user_id: str, *keys: str) -> ScreenGrant:
    """From the user's detail, g: type `keys` into the product's form, preview (ctrl+r), write
    (ctrl+g), answer yes; the app at 80x24, as an operator drives it."""
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(app, pilot, user_id)
        await pilot.press("g")
        assert isinstance(app.screen, GrantScreen)
        labels = [str(label.render()) for label in app.screen.query("#fields Label").results(Label)]
        await pilot.press(*keys, "ctrl+r")
        grant_button = app.screen.query_one("#grant", Button)
        await wait_until(pilot, lambda: not grant_button.disabled)
        preview = shown(app.screen.query_one("#outcome"))
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.question
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        return ScreenGrant(labels, preview, question, app.screen.text)


async def test_grant_from_the_user_view_end_to_end(db: Database) -> None:
    user = users.recent_users(db, 1).rows[0]
    before = users.get_user_detail(db, user.id)
    receipts_before = scalar(db, RECEIPTS)
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(app, pilot, user.id)
        await pilot.press("g")
        assert isinstance(app.screen, GrantScreen)
        await pilot.press(*"12", "tab", *"9.50", "tab", *"BMC-PILOT-1", "tab", *"via pilot")
        await pilot.press("ctrl+r")
        grant_button = app.screen.query_one("#grant", Button)
        await wait_until(pilot, lambda: not grant_button.disabled)
        assert f"{before.total} → {before.total + 12}" in shown(app.screen.query_one("#outcome"))
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        receipt_text = app.screen.text
        assert f"New Total:         {before.total + 12}" in receipt_text
        assert "Reference:         BMC-PILOT-1" in receipt_text
        await pilot.press("s")  # save as text
        saved = app.screen.saved_path
        assert saved.read_text() == receipt_text + "\n"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, UserDetailScreen))
        detail = app.screen
        await wait_until(
            pilot, lambda: f"{before.total + 12}" in shown(detail.query_one("#credits", Static))
        )
    assert scalar(db, RECEIPTS) == receipts_before + 1


async def test_an_edit_after_preview_requires_a_new_preview(db: Database) -> None:
    user = users.recent_users(db, 1).rows[0]
    app = AdminApp(db)
    async with app.run_test() as pilot:
        await open_detail(app, pilot, user.id)
        await pilot.press("g", *"5", "tab", *"5.00", "tab", *"BMC-EDIT", "ctrl+r")
        button = app.screen.query_one("#grant", Button)
        await wait_until(pilot, lambda: not button.disabled)
        await pilot.press("backspace")  # the reference changes after the preview
        assert button.disabled
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, GrantScreen)  # no confirmation: nothing to confirm


async def test_a_reused_reference_blocks_the_grant_until_overridden(db: Database) -> None:
    existing = str(scalar(db, "SELECT bmc_reference FROM payment_receipts LIMIT 1"))
    user = users.recent_users(db, 1).rows[0]
    app = AdminApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_detail(app, pilot, user.id)
        await pilot.press("g", *"5", "tab", *"5.00", "tab", *existing, "ctrl+r")
        outcome = app.screen.query_one("#outcome", Static)
        await wait_until(pilot, lambda: "already on 1 receipt" in shown(outcome))
        assert app.screen.query_one("#grant", Button).disabled
        await pilot.press("ctrl+g")  # it says what is missing, not "Preview first"
        await pilot.pause()
        [told] = [n.message for n in app._notifications]
        assert "give an override reason" in told and "Preview the grant first" not in told
        app.screen.query_one("#override").focus()
        await pilot.press(*"second coffee", "enter")
        await wait_until(pilot, lambda: "Override: second coffee" in shown(outcome))
        assert not app.screen.query_one("#grant", Button).disabled
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, ConfirmScreen)
        question = shown(app.screen.query_one("#question", Static))
        assert "already on 1 receipt(s)" in question and "overriding: second coffee" in question


def queue_rows(app: AdminApp) -> int:
    """Rows in the pending queue, or -1 until the queue screen is up."""
    if not isinstance(app.screen, PendingReceiptsScreen):
        return -1
    tables = app.screen.query("#pending").results(DataTable)
    return next((table.row_count for table in tables), -1)


async def test_the_pending_queue_verifies_and_refunds(db: Database) -> None:
    pending = credits.pending_receipts(db)
    app = AdminApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        app.open_pending()
        await wait_until(pilot, lambda: queue_rows(app) == len(pending))
        queue = app.screen
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        table = queue.query_one("#pending", DataTable)
        await wait_until(pilot, lambda: app.screen is queue and table.row_count == len(pending) - 1)
        assert credits.get_receipt(db, pending[0].id).status == "verified"
        await pilot.press("x")
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press(*"never paid", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: table.row_count == len(pending) - 2)
        refunded = credits.get_receipt(db, pending[1].id)
        assert refunded.status == "refunded" and "never paid" in (refunded.notes or "")


async def test_a_read_only_profile_shows_writes_as_unavailable(db: Database) -> None:
    read_only = with_registry(db, db.registry, read_only=True)
    user = users.recent_users(db, 1).rows[0]
    app = AdminApp(read_only)
    async with app.run_test() as pilot:
        detail = await open_detail(app, pilot, user.id)
        assert detail.check_action("grant", ()) is None  # shown dimmed in the footer
        await pilot.press("v")  # dimmed: a press says why, once
        await pilot.pause()
        assert "is read-only (read_only = true)" in str(list(app._notifications)[-1].message)
        app.open_grant(user.email)
        await pilot.pause()
        assert "read-only" in shown(app.screen.query_one("#banner", Static))
        assert app.screen.query_one("#preview", Button).disabled
        assert all(field.disabled for field in app.screen.query(Input))  # nothing to type in
        await pilot.press("ctrl+g")  # says why, not "Preview the grant first."
        await pilot.pause()
        told = str(list(app._notifications)[-1].message)
        assert "read-only" in told and "Preview the grant first" not in told
    read_only.dispose()


async def test_while_a_grant_is_written_nothing_else_can_start(pg_db: Database) -> None:
    """Another session holds the reference's advisory lock, so the write waits: meanwhile
    preview and grant are refused, and Esc stops the write on the server (nothing written);
    granted again once the lock is free, exactly one receipt exists."""
    user = users.recent_users(pg_db, 1).rows[0]
    holder = raw_engine(pg_db).connect()
    holder.execute(text("SELECT pg_advisory_lock(hashtextextended('bmc-slow', 0))"))
    app = AdminApp(pg_db)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_detail(app, pilot, user.id)
        await pilot.press("g", *"5", "tab", *"5.00", "tab", *"BMC-SLOW", "ctrl+r")
        grant_screen = app.screen
        await wait_until(pilot, lambda: not grant_screen.query_one("#grant", Button).disabled)
        await pilot.press("ctrl+g", "y")
        outcome = grant_screen.query_one("#outcome", Static)
        await wait_until(pilot, lambda: "Writing" in shown(outcome))
        await pilot.press("ctrl+r", "ctrl+g")
        await pilot.pause()
        assert app.screen is grant_screen and "Writing" in shown(outcome)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "at your request" in shown(outcome))
        assert app.screen is grant_screen
        assert (
            scalar(
                pg_db,
                "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE '%pg_advisory_xact_lock%' AND pid <> pg_backend_pid()",
            )
            == 0
        )
        assert (
            scalar(pg_db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-SLOW'")
            == 0
        )
        holder.execute(text("SELECT pg_advisory_unlock_all()"))
        await pilot.press("ctrl+r")  # a stopped write needs a fresh preview
        await wait_until(pilot, lambda: not grant_screen.query_one("#grant", Button).disabled)
        await pilot.press("ctrl+g", "y")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
    holder.close()
    assert (
        scalar(pg_db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-SLOW'") == 1
    )


async def test_a_shortfall_refund_needs_the_button_not_a_key(db: Database) -> None:
    """A repeated `y` passes the first question but not the shortfall's second one."""
    granted = credits.grant_credits(
        db,
        users.recent_users(db, 1).rows[0].id,
        credits.parse_grant(9, "9.00", "BMC-SF", max_credits=100),
        "t",
    )
    with raw_engine(db).begin() as conn:
        conn.execute(
            text("UPDATE usage_tracking SET paid_credits_remaining = 0 WHERE user_id = :u"),
            {"u": granted.user_id},
        )
    app = AdminApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = await open_detail(app, pilot, granted.user_id)
        receipts = detail.query_one("#receipts", DataTable)
        receipts.focus()
        receipts.move_cursor(row=receipts.get_row_index(granted.receipt_id))
        await pilot.press("x", *"fraud", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "already spent 9" in str(app.screen.question)
            ),
        )
        await pilot.press("y", "y")
        assert isinstance(app.screen, ConfirmScreen)  # still asking
        assert credits.get_receipt(db, granted.receipt_id).status == "verified"
        await pilot.click("#confirm")
        await wait_until(
            pilot, lambda: credits.get_receipt(db, granted.receipt_id).status == "refunded"
        )
