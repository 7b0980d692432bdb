"""The payments screen driven with Pilot: overview, months, payers, the list, export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from textual.widgets import DataTable, Input, Static, TabbedContent

from adminui.db import Database
from adminui.ops import payments
from adminui.tui.app import AdminApp
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen
from adminui.tui.payments import PaymentsScreen
from adminui.tui.user_detail import UserDetailScreen
from tests.test_tui import shown, table_emails, wait_until


def rows_in(app: AdminApp, selector: str) -> int:
    """Rows of a table on the current screen, or -1 before it exists."""
    return next((t.row_count for t in app.screen.query(selector).results(DataTable)), -1)


async def open_payments(app: AdminApp, pilot) -> PaymentsScreen:
    await wait_until(pilot, lambda: len(table_emails(app)) > 0)
    app.open_payments()
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, PaymentsScreen)
            and rows_in(app, "#payers") > 0
            and rows_in(app, "#payments") > 0
        ),
    )
    assert isinstance(app.screen, PaymentsScreen)
    return app.screen


async def test_summaries_show_the_ops_figures(db: Database) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_payments(app, pilot)
        view = payments.overview(db)
        assert f"{view.this_month_usd:,} USD" in shown(screen.query_one("#overview-text", Static))
        statuses = screen.query_one("#statuses", DataTable)
        assert [str(statuses.get_row_at(i)[0]) for i in range(3)] == list(payments.STATUSES)
        months = payments.by_month(db, 12)
        assert screen.query_one("#months", DataTable).row_count == 12
        assert months[-1].month in shown(screen.query_one("#chart", Static))
        payers = screen.query_one("#payers", DataTable)
        assert str(payers.get_row_at(0)[0]) == payments.by_user(db, 1)[0].email


async def test_export_writes_the_view_on_screen(db: Database, tmp_path: Path) -> None:
    app = AdminApp(db)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_payments(app, pilot)
        screen.query_one(TabbedContent).active = "user"
        await pilot.pause()
        await pilot.press("e")
        assert isinstance(app.screen, ReasonScreen)
        target = tmp_path / "payers.csv"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.exists())
    rows = list(csv.reader(io.StringIO(target.read_text())))
    expected = payments.by_user(db, 100)
    assert rows[0] == ["email", "payments", "total_credits", "total_spent", "last_payment"]
    assert [(r[0], r[3]) for r in rows[1:]] == [(u.email, str(u.total_spent)) for u in expected]


def last_notice(app: AdminApp) -> str:
    """The newest notification's text."""
    return str(list(app._notifications)[-1].message)


async def test_export_asks_before_making_a_folder_or_writing_over_a_file(
    db: Database, tmp_path: Path
) -> None:
    """It made missing folders and wrote over files without a word, and `.txt` got CSV."""
    app = AdminApp(db)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_payments(app, pilot)
        screen.query_one(TabbedContent).active = "user"
        await pilot.pause()

        async def export_to(target: Path) -> None:
            await pilot.press("e")
            app.screen.query_one(Input).value = str(target)
            await pilot.press("enter")
            await pilot.pause()

        await export_to(tmp_path / "payers.txt")  # no format of that name: refused, said
        assert not (tmp_path / "payers.txt").exists() and not isinstance(app.screen, ConfirmScreen)
        assert "ending in .csv or .json" in last_notice(app)
        folder = tmp_path / "new" / "folder"
        await export_to(folder / "payers.json")
        assert isinstance(app.screen, ConfirmScreen)  # asked first
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not folder.exists()
        await export_to(folder / "payers.json")
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: (folder / "payers.json").exists())
        await wait_until(pilot, lambda: "as JSON" in last_notice(app))
        kept = tmp_path / "kept.csv"
        kept.write_text("precious\n")
        await export_to(kept)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
    assert json.loads((folder / "payers.json").read_text())
    assert kept.read_text() == "precious\n"


async def test_the_list_filters_and_opens_a_user(db: Database) -> None:
    pending = payments.list_payments(db, status="pending").rows
    app = AdminApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_payments(app, pilot)
        screen.query_one(TabbedContent).active = "list"
        await pilot.pause()
        screen.query_one("#status").value = "pending"
        table = screen.query_one("#payments", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(pending))
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, UserDetailScreen))
        assert app.screen.user_id == pending[0].user_id


async def test_exporting_the_list_writes_every_matching_receipt(
    db: Database, tmp_path: Path, monkeypatch
) -> None:
    """Pages of 5 rows: only the first page or two are loaded, yet the export has them all."""
    import adminui.tui.payments as screen_module

    monkeypatch.setattr(screen_module, "PAGE", 5)
    everything = payments.list_payments(db, limit=10_000).rows
    app = AdminApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_payments(app, pilot)
        assert 0 < rows_in(app, "#payments") < len(everything)  # a page or two, not all
        screen.query_one(TabbedContent).active = "list"
        await pilot.pause()
        await pilot.press("e")
        target = tmp_path / "all.json"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.exists() and target.read_text().endswith("]\n"))
    exported = json.loads(target.read_text())
    assert [r["id"] for r in exported] == [r.id for r in everything]
    assert all(isinstance(r["amount_usd"], str) for r in exported)
