"""The execution history driven with Pilot: failed only, a run's whole error, failures by step
and over time in a window, auto-refresh."""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TextArea

from adminui.config import Config
from adminui.db import Database
from adminui.ops import executions
from adminui.ops.windows import Window
from adminui.queries import DEFAULT_PACK, Registry, default_query_dir
from adminui.tui.app import AdminApp
from adminui.tui.execution_detail import ExecutionDetailScreen
from adminui.tui.executions import ExecutionsScreen
from adminui.tui.paged_table import PagedTable
from tests.conftest import FIXTURE_NOW, scalar, with_registry
from tests.orphan_rows import change
from tests.test_tui import shown, table_emails, wait_until
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
    change(  # one failure that names no step: "(no step)" in the table and the chart alike
        db,
        "UPDATE executions SET error_step = NULL WHERE id = "
        "(SELECT id FROM executions WHERE status = 'failed' ORDER BY id LIMIT 1)",
    )
    summary = executions.failure_summary(db)
    assert None in [s.error_step for s in summary]
    app = AdminApp(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        app.open_executions()
        await wait_until(pilot, lambda: rows_in(app, "#summary") == len(summary))
        table = app.screen.query_one("#summary", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(len(summary))] == [
            s.error_step or "(no step)" for s in summary
        ]
        headings = [str(column.label) for column in table.columns.values()]
        assert headings[1] == "failed runs" and headings[-1] == "partial runs"
        assert "(no step)" in shown(app.screen.query_one("#chart", Static))


def insert_runs(db: Database, count: int, after: datetime) -> list[str]:
    """Failed runs that start after `after`, written as the SaaS app would; newest first."""
    user = str(scalar(db, "SELECT id FROM users ORDER BY created_at LIMIT 1"))
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with db.write() as tx:
        for n, run_id in enumerate(ids):
            started = after + timedelta(minutes=n + 1)
            tx.run(
                "insert_execution",
                id=run_id,
                user_id=user,
                selected_idea_id=None,
                judge_score=50,
                format_chosen="image",
                status="failed",
                error_message="boom",
                error_step="generation",
                tokens_used=1,
                duration_seconds=1,
                started_at=started,
                completed_at=started,
            )
    return ids[::-1]


def marker(app: AdminApp) -> str:
    return shown(app.screen.query_one("#new-marker", Static)).strip()


def highlighted(table: DataTable) -> str | None:
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


async def open_runs(app: AdminApp, pilot: Pilot) -> PagedTable:
    await wait_until(pilot, lambda: len(table_emails(app)) > 0)
    app.open_executions()
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, ExecutionsScreen) and rows_in(app, "#runs-table") > 0,
    )
    return app.screen.query_one("#runs-table", PagedTable)


async def test_auto_refresh_counts_new_runs_and_leaves_cursor_and_scroll_alone(
    db: Database,
) -> None:
    app = AdminApp(db, Config(executions_refresh_seconds=1))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_runs(app, pilot)
        table.focus()
        table.move_cursor(row=40)
        await wait_until(pilot, lambda: table.scroll_y > 0)
        where = (table.cursor_row, highlighted(table), table.scroll_y)
        newest = executions.list_executions(db, limit=1).rows[0].started_at
        new_ids = insert_runs(db, 3, newest)
        await pilot.press("a")  # on: counts at once, then every second
        await wait_until(pilot, lambda: marker(app) == "3 new — press n to show")
        assert (table.cursor_row, highlighted(table), table.scroll_y) == where
        new_ids = insert_runs(db, 1, newest + timedelta(minutes=3)) + new_ids
        await wait_until(pilot, lambda: marker(app) == "4 new — press n to show")  # the timer
        assert (table.cursor_row, highlighted(table), table.scroll_y) == where
        await pilot.press("n")
        await wait_until(pilot, lambda: highlighted(table) == new_ids[0])
        assert [table.get_row_at(i)[0] for i in range(4)] and list(table.loaded)[:4] == new_ids
        assert marker(app) == "auto-refresh every 1 s"
        await pilot.press("a")
        assert marker(app) == ""


def broken_count(tmp_path: Path) -> Registry:
    """The vetted statements with the count of new runs pointed at a table that isn't there."""
    queries = tmp_path / "queries"
    shutil.copytree(default_query_dir(), queries)
    for path in (queries / DEFAULT_PACK).glob("executions*.sql"):
        text = path.read_text()
        assert "AS newer\nFROM (" in text
        path.write_text(text.replace("AS newer\nFROM (", "AS newer\nFROM no_such_table, ("))
    return Registry.load(queries)


async def test_a_failing_refresh_is_said_and_the_list_keeps_working(
    db: Database, tmp_path: Path
) -> None:
    broken = with_registry(db, broken_count(tmp_path))
    app = AdminApp(broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_runs(app, pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: marker(app).startswith("auto-refresh failed"))
        assert app.screen.query_one("#new-marker").has_class("-error")
        said = [n.message for n in app._notifications if n.title == "Auto-refresh failed"]
        assert len(said) == 1 and "count_newer_executions" in said[0]
        await pilot.press("f")
        failed = executions.list_executions(db, status="failed", limit=300).rows
        table = app.screen.query_one("#runs-table", DataTable)
        await wait_until(pilot, lambda: table.row_count == len(failed))
    broken.dispose()


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    """Select what the field holds and type over it, as a person would."""
    pilot.app.screen.query_one(selector, Input).focus()
    await pilot.press("ctrl+shift+a", *(text or ["backspace"]))


def window_status(app: AdminApp) -> str:
    return shown(app.screen.query_one("#window-status", Static)).strip()


async def test_the_window_applies_to_runs_failures_and_the_chart(db: Database) -> None:
    since, until = FIXTURE_NOW - timedelta(days=6), FIXTURE_NOW
    runs = executions.list_executions(db, since=since, until=until, limit=10_000).rows
    summary = executions.failure_summary(db, since, until)
    app = AdminApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_runs(app, pilot)
        await type_into(pilot, "#from", "2026-05-26T12:00")
        await type_into(pilot, "#to", "2026-06-01T12:00")
        await wait_until(
            pilot,
            lambda: window_status(app).startswith(
                "Window: 2026-05-26 12:00 → 2026-06-01 12:00 UTC"
            ),
        )
        timeline = app.screen.query_one("#timeline", Static)
        title = app.screen.query_one("#timeline-title", Static)
        await wait_until(
            pilot,
            lambda: (
                list(table.loaded) == [r.id for r in runs[:300]]
                and rows_in(app, "#summary") == len(summary)
                and shown(title).startswith(
                    "Failures per day, newest first: 2026-05-26 12:00 → 2026-06-01 12:00 UTC"
                )
            ),
        )
        assert summary and runs
        lines = shown(timeline).strip().splitlines()
        assert len(lines) == 1 + 7  # the headings, then 7 days newest first
        assert lines[1].startswith("2026-06-01") and lines[-1].startswith("2026-05-26")
        series = executions.failures_by_bucket(db, Window(since, until))
        assert [line.split()[-2:] for line in lines[1:]] == [
            [str(b.failed), str(b.partial)] for b in reversed(series.buckets)
        ]

        day = executions.list_executions(db, since=until - timedelta(days=1), until=until).rows
        await type_into(pilot, "#from", "2026-05-31T12:00")
        await wait_until(
            pilot,
            lambda: (
                shown(title).startswith("Failures per hour, newest first: 2026-05-31 12:00")
                and list(table.loaded) == [r.id for r in day]
            ),
        )
        lines = shown(timeline).strip().splitlines()
        assert len(lines) == 1 + 24 and lines[1].startswith("2026-06-01 11:00")

        shown_runs = list(table.loaded)
        for typed, said in (
            ("[bold]nope", "from: '[bold]nope' is not a window"),
            ("2099-01-01", "from: 2099-01-01 00:00 UTC is in the future"),
        ):
            await type_into(pilot, "#from", typed)
            await wait_until(pilot, lambda said=said: window_status(app).startswith(said))
            assert app.screen.query_one("#window-status").has_class("-error")
            assert list(table.loaded) == shown_runs  # the lists keep the last good window
        await type_into(pilot, "#from", "2026-06-02")
        await wait_until(pilot, lambda: window_status(app).startswith("to: must be after from"))

        await type_into(pilot, "#from", "")
        await type_into(pilot, "#to", "")
        app.screen.query_one("#window", Select).value = "30d"
        preset = re.compile(r"Window: \d{4}-\d\d-\d\d \d\d:\d\d → now UTC$")
        await wait_until(pilot, lambda: bool(preset.match(window_status(app))))
        recent = executions.list_executions(db, since=datetime.now(UTC) - timedelta(days=30))
        await wait_until(pilot, lambda: table.row_count == len(recent.rows))


async def test_deep_paging_lets_the_oldest_rows_go_and_keeps_the_cursor(
    db: Database, monkeypatch
) -> None:
    """Memory stays flat however deep one pages: past the window the oldest rows are let go,
    the cursor stays on its run, and the status line says how many were read."""
    monkeypatch.setattr("adminui.tui.paged_table.WINDOW", 40)
    monkeypatch.setattr("adminui.tui.executions.PAGE", 15)
    total = int(scalar(db, "SELECT COUNT(*) FROM executions e JOIN users u ON u.id = e.user_id"))
    assert total > 100
    app = AdminApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_runs(app, pilot)
        table.focus()
        while table.read < 100:
            read = table.read
            table.action_scroll_bottom()  # the cursor at the end asks for the next page
            for _ in range(200):  # not wait_until: the next page's worker replaces this one
                if table.read > read:
                    break
                await pilot.pause(0.05)
            assert table.read > read, "the next page never came"
            on = highlighted(table)
            assert table.row_count <= 40
            assert on in table.loaded and list(table.loaded).index(on) == table.cursor_row
        status = shown(app.screen.query_one("#runs-status", Static))
        assert re.search(r"runs, newest first, the last of \d+ read", status)
        assert "r starts over" in status
        in_table = [
            table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value
            for i in range(table.row_count)
        ]
        assert in_table == list(table.loaded)  # the table and what it holds agree, in order


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_runs_fit_the_terminal(db: Database, size: tuple[int, int]) -> None:
    """At 80 columns the email was off screen; at 200 emails were cut beside 100 empty columns.
    Now the email is whole and on screen at 80, and at 200 the error, last, takes the room."""
    app = AdminApp(db)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: len(table_emails(app)) > 0)
        app.open_executions()
        await wait_until(pilot, lambda: rows_in(app, "#runs-table") > 0)
        await pilot.pause(0.2)
        table = app.screen.query_one("#runs-table", DataTable)
        widths = {
            key.value: column.get_render_width(table) for key, column in table.columns.items()
        }
        order = list(widths)
        assert order[-1] == "error"
        emails = [str(table.get_row_at(i)[order.index("email")]) for i in range(table.row_count)]
        longest = max(len(e) for e in emails)
        assert widths["email"] - 2 * table.cell_padding >= longest  # whole
        email_ends = sum(widths[c] for c in order[: order.index("email") + 1])
        assert email_ends <= table.scrollable_content_region.width  # on screen
        if size[0] == 200:  # the error takes what is left: no empty room, no sideways scroll
            assert sum(widths.values()) == table.scrollable_content_region.width
