"""Execution history for on-call: runs newest first (pages load as you scroll, new ones counted
while auto-refresh is on), failures by step and per hour or day, stuck runs; all through one time
window. One run whole lives in execution_detail.py."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import get_current_worker

from adminui.errors import AdminError
from adminui.ops import executions
from adminui.ops.windows import Window, parse_window
from adminui.tui.cells import cell, failure
from adminui.tui.charts import Bar, bar_chart
from adminui.tui.execution_detail import ExecutionDetailScreen
from adminui.tui.fitted_table import FittedTable
from adminui.tui.paged_table import PagedTable
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp

PAGE = 300
TYPING_PAUSE = 0.4  # seconds without a keystroke before a typed window applies
NEW_CAP = 999  # counting stops here: "more than 999 new" is all on-call needs to know
# What on-call reads first comes first; the error, of any length, last.
LIST = (
    "started_at",
    "status",
    "email",
    "error_step",
    "format_chosen",
    "tokens_used",
    "duration_seconds",
    "error",
)
# At a narrow width the error gives way first (it is read whole in the run's own screen), then
# the email; at a wide one the error takes the room that is left.
GIVE_WAY = ("error", "email")
SUMMARY = executions.VIEW_COLUMNS["summary"]
# The failure summary's headings say what each column counts.
HEADINGS = {
    "error_step": "step",
    "count": "failed runs",
    "users": "users failed",
    "latest": "latest failure",
    "partial": "partial runs",
}
NO_STEP = "(no step)"  # a run that failed without naming its step, in the table and the chart
PRESETS = (
    ("last hour", "1h"),
    ("last 24 hours", "24h"),
    ("last 7 days", "7d"),
    ("last 30 days", "30d"),
    ("all time", "all"),
)
BUCKET_LABEL = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d"}

Top = tuple[datetime, str] | None


class ExecutionsScreen(Screen[None]):
    """Runs, failures, stuck runs in one window. `f` toggles failed only, `a` auto-refresh, `n`
    shows the new runs it found; Enter opens a run."""

    CSS_PATH = "executions.tcss"
    AUTO_FOCUS = "#runs-table"  # the keys (f, a, n, Enter) work at once; the filters are a Tab away
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "failed_only", "Failed only", tooltip="Show only failed runs (or all)"),
        Binding("a", "auto_refresh", "Auto-refresh", tooltip="Count new runs every few seconds"),
        Binding("n", "show_new", "Show new", tooltip="Reload the list with the new runs on top"),
        Binding("r", "reload", "Reload"),
    ]

    @dataclass
    class Overview(Message):
        """The failure summary and chart for a window, and the stuck runs."""

        window: Window
        summary: tuple[executions.StepFailures, ...] = ()
        series: executions.FailureSeries | None = None
        stuck: tuple[executions.ExecutionRow, ...] = ()
        error: str | None = None

    @dataclass
    class NewRuns(Message):
        """How many runs sort above `top` (the list's newest row when the count was asked)."""

        top: Top
        filters: dict[str, Any]
        count: int
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.window = Window()
        self.refreshing = False
        self.new_runs = 0  # found by auto-refresh above the list's top, not shown yet
        self._list_filters: dict[str, Any] = {}
        self._typing: Timer | None = None
        self._refresh_timer: Timer | None = None
        self._refresh_error: str | None = None

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        # The window and the filters are one line each (compact), so at 80x24 the runs keep
        # most of the screen (bordered, the two bars took 6 of its 24 lines).
        with Horizontal(id="window-bar"):
            yield Select(PRESETS, value="all", allow_blank=False, id="window", compact=True)
            yield Input(placeholder="from: 2026-11-01, 36h", id="from", compact=True)
            yield Input(placeholder="to: 2026-11-20 or now", id="to", compact=True)
        yield Static(id="window-status")
        with TabbedContent(initial="runs"):
            with TabPane("Runs", id="runs"):
                with Horizontal(id="filters"):
                    yield Select(
                        [(s, s) for s in executions.STATUSES],
                        prompt="any status",
                        id="status",
                        compact=True,
                    )
                    yield Input(placeholder="error step", id="step", compact=True)
                    yield Input(placeholder="user email", id="user", compact=True)
                with Horizontal(id="runs-line"):
                    yield Static(id="runs-status")
                    yield Static(id="new-marker")
                yield PagedTable(LIST, "runs, newest first", id="runs-table", give_way=GIVE_WAY)
            # By step and by time: stacked on a narrow terminal, side by side on a wide one.
            with TabPane("Failures", id="failures"), VerticalScroll(id="failures-body"):
                with VerticalScroll(id="by-step"):
                    yield Static(id="chart")
                    yield SteadyTable(id="summary", cursor_type="row")
                with VerticalScroll(id="by-time"):
                    yield Static(id="timeline-title")
                    yield Static(id="timeline")
            with TabPane("Stuck", id="stuck"):
                yield Static(id="stuck-status")
                yield FittedTable(
                    give_way=GIVE_WAY, id="stuck-table", cursor_type="row", zebra_stripes=True
                )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "executions"
        for table_id, columns in (("#summary", SUMMARY), ("#stuck-table", LIST)):
            table = self.query_one(table_id, DataTable)
            for column in columns:
                table.add_column(HEADINGS.get(column, column.replace("_", " ")), key=column)
        self._apply_window()

    def action_reload(self) -> None:
        """Read everything again; a preset ('last hour') is measured from now again."""
        self._apply_window()

    # The window: a preset, or an explicit from-to that replaces it while either is filled.

    @on(Input.Changed, "#from, #to")
    def _window_typed(self) -> None:
        """Apply a typed from/to once typing pauses: '2026-11-2' is not yet a window, and
        every prefix that is one ('2026-11-20', '2026-11-20T1') would reload the lists."""
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._apply_window)

    @on(Select.Changed, "#window")
    def _apply_window(self) -> None:
        """Read the window; a bad one is said on screen and the lists keep the last good one."""
        typed = self.query_one("#from", Input).value, self.query_one("#to", Input).value
        status = self.query_one("#window-status", Static)
        try:
            if any(t.strip() for t in typed):
                window = parse_window(*typed, fields=("from", "to"), now=self.admin.now())
            else:
                window = parse_window(
                    str(self.query_one("#window", Select).value), now=self.admin.now()
                )
        except AdminError as error:
            status.set_class(True, "-error")
            status.update(Text(f"{error} (still showing {self.window.describe()})"))
            return
        self.window = window
        status.set_class(False, "-error")
        replaced = " · from-to replaces the preset" if any(t.strip() for t in typed) else ""
        status.update(Text(f"Window: {window.describe()}{replaced}"))
        self._reload_runs()
        self.load_overview(window)

    # The runs list.

    def action_failed_only(self) -> None:
        """Toggle the status filter between 'failed' and any."""
        select = self.query_one("#status", Select)
        select.value = Select.BLANK if select.value == "failed" else "failed"

    @on(Input.Changed, "#step, #user")
    @on(Select.Changed, "#status")
    def _reload_runs(self) -> None:
        """A list filter (or the window) changed: the list starts over from the newest run."""
        status = self.query_one("#status", Select).value
        filters = self._list_filters = {
            "status": status if isinstance(status, str) else None,
            "step": self.query_one("#step", Input).value.strip() or None,
            "email": self.query_one("#user", Input).value.strip() or None,
            "since": self.window.since,
            "until": self.window.until,
        }
        db = self.admin.db

        def fetch(after: tuple[datetime, str] | None) -> tuple[list[dict[str, Any]], Any]:
            page = executions.list_executions(db, after=after, limit=PAGE, **filters)
            return [dataclasses.asdict(r) for r in page.rows], page.after

        self.query_one("#runs-table", PagedTable).restart(fetch)
        self._show_marker(0)

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        """The runs table says what it holds."""
        self.query_one("#runs-status", Static).update(Text(message.text))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the run."""
        if event.data_table.id in ("runs-table", "stuck-table") and event.row_key.value:
            self.app.push_screen(ExecutionDetailScreen(event.row_key.value))

    # Auto-refresh: count what sorts above the newest row loaded; the table itself is not
    # touched, so the operator's cursor and scroll stay where they are until `n`.

    def action_auto_refresh(self) -> None:
        """Turn auto-refresh on (checking at once) or off."""
        self.refreshing = not self.refreshing
        if self._refresh_timer is None:
            every = self.admin.config.executions_refresh_seconds
            self._refresh_timer = self.set_interval(every, self._check_new)
        elif self.refreshing:
            self._refresh_timer.resume()
        if self.refreshing:
            self._check_new()
        else:
            self._refresh_timer.pause()
            self._show_marker(0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`n` is offered only while there is something new to show."""
        return self.new_runs > 0 if action == "show_new" else True

    def action_show_new(self) -> None:
        """Reload the list (new runs on top, cursor back at the top) and the summaries."""
        self.action_reload()

    def _top(self) -> Top:
        rows = self.query_one("#runs-table", PagedTable).loaded.values()
        return next(((r["started_at"], r["id"]) for r in rows if r["started_at"]), None)

    def _check_new(self) -> None:
        if self.is_current:  # no counting while a run's detail is open over the list
            self.count_new(self._top(), self._list_filters)

    @work(thread=True, exclusive=True, exit_on_error=False, group="execution-new")
    def count_new(self, top: Top, filters: dict[str, Any]) -> None:
        """Count the new runs off the UI thread."""
        db = self.admin.db
        try:
            count = executions.count_newer_executions(db, top, cap=NEW_CAP, **filters)
            message = self.NewRuns(top, filters, count)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.NewRuns(top, filters, 0, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_executions_screen_new_runs(self, message: NewRuns) -> None:
        """Say how many are new, unless the list changed since the count was asked."""
        current = message.filters is self._list_filters and message.top == self._top()
        if not (self.refreshing and current):
            return
        if message.error is not None and message.error != self._refresh_error:
            # Whole, once per new error: the marker has room for a few words only.
            self.notify(message.error, title="Auto-refresh failed", severity="error", markup=False)
        self._refresh_error = message.error
        self._show_marker(message.count, message.error)

    def _show_marker(self, count: int, error: str | None = None) -> None:
        self.new_runs = count
        self.refresh_bindings()
        marker = self.query_one("#new-marker", Static)
        marker.set_class(error is not None, "-error")
        marker.set_class(count > 0, "-new")
        if error is not None:
            text = "auto-refresh failed; retrying"
        elif count > NEW_CAP:
            text = f"more than {NEW_CAP} new — press n to show"
        elif count:
            text = f"{count} new — press n to show"
        else:
            every = self.admin.config.executions_refresh_seconds
            text = f"auto-refresh every {every} s" if self.refreshing else ""
        marker.update(Text(text))

    # The failures tab and the stuck tab.

    @work(thread=True, exclusive=True, exit_on_error=False, group="execution-overview")
    def load_overview(self, window: Window) -> None:
        """The failure summary and chart of the window, and the stuck runs, off the UI thread."""
        db, minutes = self.admin.db, self.admin.config.stuck_after_minutes
        try:
            message = self.Overview(
                window,
                executions.failure_summary(db, window.since, window.until),
                executions.failures_by_bucket(db, window, self.admin.now()),
                executions.stuck_executions(db, minutes, self.admin.now()),
            )
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Overview(window, error=failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_executions_screen_overview(self, message: Overview) -> None:
        """Fill the failures tab (bars by step, the table, the timeline) and the stuck tab."""
        if message.error or message.series is None:
            self.query_one("#chart", Static).update(Text(message.error or ""))
            return
        summary = self.query_one("#summary", DataTable)
        summary.clear()
        for step in message.summary:
            values = dataclasses.asdict(step) | {"error_step": step.error_step or NO_STEP}
            summary.add_row(*(cell(values[c]) for c in SUMMARY))
        steps = (Bar(s.error_step or NO_STEP, s.count, (f"{s.count:,}",)) for s in message.summary)
        self.query_one("#chart", Static).update(bar_chart(steps, style="red"))
        series, fmt, window = message.series, BUCKET_LABEL[message.series.unit], message.window
        self.query_one("#timeline-title", Static).update(
            Text(
                f"Failures per {series.unit}, newest first: {window.describe()}"
                if series.buckets
                else f"No failures in {window.describe()}."
            )
        )
        buckets = (
            Bar(b.start.strftime(fmt), b.failed, (f"{b.failed:,}", f"{b.partial:,}"))
            for b in reversed(series.buckets)
        )
        self.query_one("#timeline", Static).update(
            bar_chart(buckets, style="red", headings=("failed", "partial"))
        )
        stuck = self.query_one("#stuck-table", DataTable)
        stuck.clear()
        for row in message.stuck:
            values = dataclasses.asdict(row)
            stuck.add_row(*(cell(values[c]) for c in LIST), key=row.id)
        stuck.call_after_refresh(stuck.fit)
        minutes = self.admin.config.stuck_after_minutes
        self.query_one("#stuck-status", Static).update(
            f"{len(message.stuck)} run(s) 'running' for more than {minutes} minutes"
        )

    def action_back(self) -> None:
        """Back to where the history was opened from."""
        self.app.pop_screen()
