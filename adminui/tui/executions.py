"""Execution history for on-call: runs newest first (pages load as you scroll), failures by step,
stuck runs, and one run whole with its full error text."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import get_current_worker

from adminui.errors import AdminError
from adminui.ops import executions
from adminui.ops.windows import parse_since
from adminui.tui.cells import cell, failure
from adminui.tui.paged_table import PagedTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp

PAGE = 300
# What on-call reads first comes first: at 80 columns the later ones scroll into view.
LIST = (
    "started_at",
    "status",
    "error_step",
    "error",
    "email",
    "format_chosen",
    "tokens_used",
    "duration_seconds",
)
SUMMARY = executions.VIEW_COLUMNS["summary"]


class ExecutionsScreen(Screen[None]):
    """Runs, failures by step, stuck runs. `f` toggles failed only; Enter opens a run."""

    CSS_PATH = "executions.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "failed_only", "Failed only", tooltip="Show only failed runs (or all)"),
        Binding("r", "reload", "Reload"),
    ]

    @dataclass
    class Overview(Message):
        """The failure summary and the stuck runs."""

        summary: tuple[executions.StepFailures, ...]
        stuck: tuple[executions.ExecutionRow, ...]
        error: str | None = None

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="runs"):
            with TabPane("Runs", id="runs"):
                with Horizontal(id="filters"):
                    yield Select(
                        [(s, s) for s in executions.STATUSES], prompt="any status", id="status"
                    )
                    yield Input(placeholder="since: 1h, 24h, 7d, 30d", id="since")
                    yield Input(placeholder="error_step", id="step")
                    yield Input(placeholder="user email", id="user")
                yield Static(id="runs-status")
                yield PagedTable(LIST, "runs, newest first", id="runs-table")
            with TabPane("Failures by step", id="failures"), VerticalScroll():
                yield Static(id="chart")
                yield DataTable(id="summary", cursor_type="row")
            with TabPane("Stuck", id="stuck"):
                yield Static(id="stuck-status")
                yield DataTable(id="stuck-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "executions"
        for table_id, columns in (("#summary", SUMMARY), ("#stuck-table", LIST)):
            table = self.query_one(table_id, DataTable)
            for column in columns:
                table.add_column(column.replace("_", " "), key=column)
        self.action_reload()

    def action_reload(self) -> None:
        """Read everything again."""
        self._reload_runs()
        self.load_overview()

    def action_failed_only(self) -> None:
        """Toggle the status filter between 'failed' and any."""
        select = self.query_one("#status", Select)
        select.value = Select.BLANK if select.value == "failed" else "failed"

    def on_input_changed(self) -> None:
        """A filter changed: the list starts over."""
        self._reload_runs()

    def on_select_changed(self) -> None:
        """The status filter changed."""
        self._reload_runs()

    def _filters(self) -> dict[str, Any]:
        status = self.query_one("#status", Select).value
        since = self.query_one("#since", Input).value.strip()
        return {
            "status": status if isinstance(status, str) else None,
            "since": parse_since(since) if since else None,
            "step": self.query_one("#step", Input).value.strip() or None,
            "email": self.query_one("#user", Input).value.strip() or None,
        }

    def _reload_runs(self) -> None:
        try:
            filters = self._filters()
        except AdminError as error:  # a malformed since: said where the count would be
            self.query_one("#runs-status", Static).update(Text(str(error)))
            return
        db = self.admin.db

        def fetch(after: tuple[datetime, str] | None) -> tuple[list[dict[str, Any]], Any]:
            page = executions.list_executions(db, after=after, limit=PAGE, **filters)
            return [dataclasses.asdict(r) for r in page.rows], page.after

        self.query_one("#runs-table", PagedTable).restart(fetch)

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        """The runs table says what it holds."""
        self.query_one("#runs-status", Static).update(Text(message.text))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the run."""
        if event.data_table.id in ("runs-table", "stuck-table") and event.row_key.value:
            self.app.push_screen(ExecutionDetailScreen(event.row_key.value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="execution-overview")
    def load_overview(self) -> None:
        """The failure summary and the stuck runs off the UI thread."""
        db, minutes = self.admin.db, self.admin.config.stuck_after_minutes
        try:
            message = self.Overview(
                executions.failure_summary(db), executions.stuck_executions(db, minutes)
            )
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Overview((), (), failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_executions_screen_overview(self, message: Overview) -> None:
        """Fill the failures tab (with bars) and the stuck tab."""
        if message.error:
            self.query_one("#chart", Static).update(Text(message.error))
            return
        summary = self.query_one("#summary", DataTable)
        summary.clear()
        for step in message.summary:
            values = dataclasses.asdict(step)
            summary.add_row(*(cell(values[c]) for c in SUMMARY))
        top = max((s.count for s in message.summary), default=0) or 1
        chart = Table.grid(padding=(0, 1))
        chart.add_column()
        chart.add_column(width=40)
        chart.add_column(justify="right")
        for step in message.summary:
            chart.add_row(
                Text(step.error_step or "(none)"),
                Text("█" * max(1, step.count * 40 // top), style="red"),
                f"{step.count}",
            )
        self.query_one("#chart", Static).update(chart)
        stuck = self.query_one("#stuck-table", DataTable)
        stuck.clear()
        for row in message.stuck:
            values = dataclasses.asdict(row)
            stuck.add_row(*(cell(values[c]) for c in LIST), key=row.id)
        minutes = self.admin.config.stuck_after_minutes
        self.query_one("#stuck-status", Static).update(
            f"{len(message.stuck)} run(s) 'running' for more than {minutes} minutes"
        )

    def action_back(self) -> None:
        """Back to where the history was opened from."""
        self.app.pop_screen()


class ExecutionDetailScreen(Screen[None]):
    """One run: every column, its idea and outputs, the whole error (scroll, select, copy)."""

    CSS_PATH = "executions.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("u", "open_user", "Open user"),
        Binding("c", "copy_error", "Copy error"),
    ]

    @dataclass
    class Loaded(Message):
        """The run was read (or failed)."""

        detail: executions.ExecutionDetail | None
        error: str | None = None

    def __init__(self, execution_id: str) -> None:
        super().__init__()
        self.execution_id = execution_id
        self.detail: executions.ExecutionDetail | None = None

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="run"):
            # The error first: it is what on-call opened the run for.
            yield TextArea(id="error-text", read_only=True, soft_wrap=False)
            yield Static(id="facts")
            yield DataTable(id="outputs", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#outputs", DataTable)
        for column in ("format", "published", "publication_url", "created_at"):
            table.add_column(column.replace("_", " "), key=column)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="execution-detail")
    def load(self) -> None:
        """Read the run off the UI thread."""
        try:
            message = self.Loaded(executions.get_execution(self.admin.db, self.execution_id))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Loaded(None, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_execution_detail_screen_loaded(self, message: Loaded) -> None:
        """Show every column; the error text literally, in a scrollable, selectable box."""
        if message.detail is None:
            self.notify(
                message.error or "The run could not be read.", severity="error", markup=False
            )
            return
        d = self.detail = message.detail
        self.sub_title = f"{d.status} · {d.email}"
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style="bold", no_wrap=True)
        facts.add_column()
        values = dataclasses.asdict(d)
        for key, value in values.items():
            if key not in ("outputs", "error_message"):
                facts.add_row(key, cell(value))
        self.query_one("#facts", Static).update(facts)
        self.query_one("#error-text", TextArea).text = d.error_message or "(no error message)"
        outputs = self.query_one("#outputs", DataTable)
        for output in d.outputs:
            outputs.add_row(
                cell(output.format),
                cell(output.published),
                cell(output.publication_url),
                cell(output.created_at),
            )

    def action_open_user(self) -> None:
        """Open the run's user."""
        if self.detail is not None:
            self.admin.open_user(self.detail.user_id)

    def action_copy_error(self) -> None:
        """Put the whole error message on the clipboard."""
        if self.detail is not None and self.detail.error_message:
            self.app.copy_to_clipboard(self.detail.error_message)
            self.notify("Error message copied.")

    def action_back(self) -> None:
        """Back to the list."""
        self.app.pop_screen()
