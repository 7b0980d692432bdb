"""The execution history driven with Pilot: failed only, a run's whole error, failures by step."""

from __future__ import annotations

from textual.widgets import DataTable, TextArea

from adminui.db import Database
from adminui.ops import executions
from adminui.tui.app import AdminApp
from adminui.tui.executions import ExecutionDetailScreen, ExecutionsScreen
from tests.conftest import scalar
from tests.test_tui import table_emails, wait_until
from tests.test_tui_payments import rows_in


async def test_failed_only_then_a_runs_whole_error(db: Database) -> None:
    failed = executions.list_executions(db, status="failed", limit=300).rows
    chosen = failed[0].id
    app = AdminApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        app.open_executions()
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ExecutionsScreen) and rows_in(app, "#runs-table") > 0,
        )
        await pilot.press("f")
        table = app.screen.query_one("#runs-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(failed))
        assert [str(table.get_row_at(i)[1]) for i in range(3)] == ["failed"] * 3
        table.focus()
        table.move_cursor(row=table.get_row_index(chosen))
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ExecutionDetailScreen) and app.screen.detail is not None,
        )
        stored = scalar(db, "SELECT error_message FROM executions WHERE id = :i", i=chosen)
        assert app.screen.query_one(TextArea).text == stored and "\n" in str(stored)


async def test_failures_by_step_and_stuck_runs(db: Database) -> None:
    summary = executions.failure_summary(db)
    app = AdminApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        app.open_executions()
        await wait_until(pilot, lambda: rows_in(app, "#summary") == len(summary))
        table = app.screen.query_one("#summary", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(len(summary))] == [
            s.error_step for s in summary
        ]
