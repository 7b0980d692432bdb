"""Buy Me a Coffee on the screens (#18), driven with Pilot against the loopback stand-in: the
grant form reads a payment (typed, or picked from the user's) and fills in its amount and
reference; a refunded one can't grant; the payments screen's BMC tab lists the exceptions first
and refunds a still-granted receipt from its row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input

from adminui.db import Database
from adminui.ops import users
from adminui.tui.app import AdminApp
from adminui.tui.dialogs import ConfirmScreen, PickScreen, ReasonScreen, ReceiptScreen
from adminui.tui.grant import GrantScreen
from adminui.tui.payments import PaymentsScreen
from tests.bmc_standin import Standin, serving, supporter
from tests.conftest import rows, scalar
from tests.test_bmc import receipt
from tests.test_tui import shown, wait_until
from tests.test_tui_credits import open_detail

NOW = datetime.now(UTC).replace(microsecond=0)


@asynccontextmanager
async def grant_screen(db: Database, user_id: str) -> AsyncIterator[tuple[AdminApp, Pilot, Any]]:
    """The app, at 80 by 24, on the grant screen of one user (opened from their detail)."""
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(app, pilot, user_id)
        await pilot.press("g")
        yield app, pilot, app.screen


@asynccontextmanager
async def bmc_tab(db: Database) -> AsyncIterator[tuple[AdminApp, Pilot, DataTable]]:
    """The app, at 200 by 60, on the payments screen's BMC tab."""
    app = AdminApp(db)
    async with app.run_test(size=(200, 60)) as pilot:
        app.open_payments()
        await wait_until(pilot, lambda: isinstance(app.screen, PaymentsScreen))
        await pilot.press("b")
        yield app, pilot, app.screen.query_one("#bmc-table", DataTable)


@pytest.fixture
def standin(monkeypatch) -> Iterator[Standin]:
    with serving(Standin(per_page=5)) as running:
        monkeypatch.setenv("ADMINUI_BMC_TOKEN", running.token)
        monkeypatch.setenv("ADMINUI_BMC_API", running.url)
        yield running


async def test_a_typed_payment_fills_the_grant_and_its_record_goes_on_the_receipt(
    db: Database, standin: Standin
) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters.append(supporter(4321, user.email, NOW - timedelta(hours=1), coffees=2))
    async with grant_screen(db, user.id) as (app, pilot, screen):
        assert isinstance(screen, GrantScreen)
        screen.query_one("#bmc", Input).focus()
        await pilot.press(*"4321", "enter")
        amount = screen.query_one("#amount", Input)
        await wait_until(pilot, lambda: amount.value == "10.00")
        assert screen.query_one("#reference", Input).value == "BMC-4321"
        screen.query_one("#credits", Input).focus()
        await pilot.press(*"20", "ctrl+r")
        grant = screen.query_one("#grant", Button)
        await wait_until(pilot, lambda: not grant.disabled)
        assert "BMC support 4321: 10.00 USD (2 x 5.0000)" in shown(screen.query_one("#outcome"))
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
    (row,) = rows(db, "SELECT * FROM payment_receipts WHERE bmc_reference = 'BMC-4321'")
    assert row["credits_purchased"] == 20 and row["notes"].startswith("BMC support 4321: 10.00 USD")


async def test_the_user_s_payments_are_picked_from_a_list(db: Database, standin: Standin) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters += [
        supporter(50 + n, user.email, NOW - timedelta(days=n), coffees=1 + n) for n in range(3)
    ]
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(app, pilot, user.id)
        await pilot.press("g", "ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("down", "enter")  # the second newest: support 51, 2 coffees
        grant = app.screen
        assert isinstance(grant, GrantScreen)
        await wait_until(pilot, lambda: grant.query_one("#amount", Input).value == "10.00")
        assert grant.query_one("#bmc", Input).value == "51"
        assert grant.query_one("#reference", Input).value == "BMC-51"


async def test_a_refunded_payment_can_t_grant(db: Database, standin: Standin) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters.append(supporter(99, user.email, NOW, refunded="1"))
    before = scalar(db, "SELECT COUNT(*) FROM payment_receipts")
    async with grant_screen(db, user.id) as (_app, pilot, screen):
        screen.query_one("#bmc", Input).value = "99"
        screen.query_one("#credits", Input).focus()
        await pilot.press(*"5", "ctrl+r")  # reads the payment first, then previews
        outcome = screen.query_one("#outcome")
        await wait_until(pilot, lambda: "was refunded at Buy Me a Coffee" in shown(outcome))
        assert screen.query_one("#grant", Button).disabled
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts") == before


async def test_the_bmc_tab_refunds_a_receipt_bmc_refunded(db: Database, standin: Standin) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters += [
        supporter(700, user.email, NOW - timedelta(days=2), refunded="1"),
        supporter(701, "paid@example.com", NOW - timedelta(days=1)),
    ]
    receipt(db, str(user.id), "BMC-700", "verified", "5.00", 2)
    async with bmc_tab(db) as (app, pilot, table):
        await wait_until(pilot, lambda: table.row_count >= 2)
        issues = [str(table.get_row_at(n)[0]) for n in range(table.row_count)]
        assert issues[:2] == ["paid not granted", "refunded at bmc"]
        table.move_cursor(row=1)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen))
        await pilot.press(*"refunded at BMC", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await pilot.pause(0.3)
        if isinstance(app.screen, ConfirmScreen):  # the user spent them: asked again, by button
            await pilot.click("#confirm")
        await wait_until(
            pilot,
            lambda: (
                scalar(db, "SELECT status FROM payment_receipts WHERE bmc_reference = 'BMC-700'")
                == "refunded"
            ),
        )
        await wait_until(
            pilot,
            lambda: (
                "refunded at bmc"
                not in [str(table.get_row_at(n)[0]) for n in range(table.row_count)]
            ),
        )


async def test_reading_the_payment_again_makes_the_preview_stale(
    db: Database, standin: Standin
) -> None:
    """Refunded at BMC after a preview: read again, the old preview can't be granted."""
    user = users.recent_users(db, 1).rows[0]
    standin.supporters.append(supporter(88, user.email, NOW))
    async with grant_screen(db, user.id) as (app, pilot, screen):
        screen.query_one("#bmc", Input).value = "88"
        screen.query_one("#credits", Input).focus()
        await pilot.press(*"5", "ctrl+r")
        grant = screen.query_one("#grant", Button)
        await wait_until(pilot, lambda: not grant.disabled)
        standin.supporters[-1]["is_refunded"] = "1"
        screen.query_one("#bmc", Input).focus()
        await pilot.press("enter")
        outcome = screen.query_one("#outcome")
        await wait_until(pilot, lambda: "REFUNDED" in shown(outcome))
        assert grant.disabled
        await pilot.press("ctrl+g")
        assert not isinstance(app.screen, ConfirmScreen)
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-88'") == 0


async def test_a_late_answer_for_an_id_no_longer_typed_is_dropped(
    db: Database, standin: Standin
) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters.append(supporter(11, user.email, NOW))
    standin.latency = 0.8
    async with grant_screen(db, user.id) as (_app, pilot, screen):
        field = screen.query_one("#bmc", Input)
        field.focus()
        await pilot.press(*"11", "enter")
        field.value = "22"  # changed while 11 is read
        await pilot.pause(1.5)
        assert screen.query_one("#amount", Input).value == ""
        assert screen.query_one("#reference", Input).value == ""


async def test_clearing_the_payment_clears_what_it_filled_in(
    db: Database, standin: Standin
) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters.append(supporter(12, user.email, NOW))
    async with grant_screen(db, user.id) as (_app, pilot, screen):
        screen.query_one("#bmc", Input).focus()
        await pilot.press(*"12", "enter")
        amount = screen.query_one("#amount", Input)
        await wait_until(pilot, lambda: amount.value == "5.00")
        screen.query_one("#bmc", Input).value = ""
        await wait_until(pilot, lambda: amount.value == "")
        assert screen.query_one("#reference", Input).value == ""


async def test_v_verifies_only_a_pending_row_whose_payment_stands(
    db: Database, standin: Standin
) -> None:
    user = users.recent_users(db, 1).rows[0]
    standin.supporters.append(supporter(710, user.email, NOW - timedelta(days=1), refunded="1"))
    receipt(db, str(user.id), "BMC-710", "pending", "5.00", 1)
    async with bmc_tab(db) as (app, pilot, table):
        await wait_until(pilot, lambda: table.row_count >= 1)
        assert str(table.get_row_at(0)[0]) == "refunded at bmc"
        await pilot.press("v")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("pending matches" in str(n.message) for n in app._notifications)
    assert (
        scalar(db, "SELECT status FROM payment_receipts WHERE bmc_reference = 'BMC-710'")
        == "pending"
    )
