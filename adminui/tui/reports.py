"""A report job's screen (OmniChat's ledger health, usage and money; filepath's budgets): one tab
per report of the product's manifest, each with the filters its statement offers, its chart when
it has one, and its rows, a paged list read page by page as the cursor goes down. Enter on a row
with a user opens them."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from adminui.errors import AdminError
from adminui.ops import reports
from adminui.ops.windows import parse_since
from adminui.packs import Pack, Report
from adminui.tui.charts import Bar, bar_chart
from adminui.tui.paged_table import PagedTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp

TYPING_PAUSE = 0.4  # seconds without a keystroke before typed filters apply
ROW = "row"  # the key of a report's row that has no id of its own: its place
# Each filter's box: what to type.
PLACEHOLDERS = {
    "user": "user email or id",
    "model": "model (gpt-4o)",
    "day": "day: 2026-11-30",
    "since": "since: 7d, 2026-11-01",
}
# Each report job's screen: its title and what it holds (the palette's line).
SCREENS = {
    "usage": ("Usage", "API usage newest first, top users, battery by model per day, summaries"),
    "money": ("Money", "Battery transactions by month and type; subscriptions and MRR"),
}


def screen_title(pack: Pack, job: str) -> tuple[str, str]:
    """The job's screen as the palette names it: a health job by its command (Ledger health,
    Budgets) and its checks."""
    if job == "health":
        title = pack.health_command.replace("-", " ").capitalize()
        return title, "; ".join(r.title for r in pack.health)
    return SCREENS[job]


class ReportsScreen(Screen[None]):
    """The reports of one job of the product."""

    CSS_PATH = "reports.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload", tooltip="Read every report again"),
    ]

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job
        self._typing: dict[str, Timer] = {}  # each report's pending filter change
        self._fetch: dict[str, Any] = {}  # each report's current reader
        self._found: dict[str, reports.Found] = {}  # its last page read, for its status

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    @property
    def reports(self) -> tuple[Report, ...]:
        return self.admin.db.pack.reports_of(self.job)

    def compose(self) -> ComposeResult:
        db = self.admin.db
        yield Header()
        with TabbedContent(id="tabs"):
            for report in self.reports:
                name = report.name
                tab = name.replace("-", " ").replace("_", " ").capitalize()
                with TabPane(tab, id=f"tab-{name}"), Vertical():
                    offered = reports.filters(db, report)
                    if offered:
                        with Horizontal(classes="filters"):
                            for label in offered:
                                yield Input(
                                    placeholder=PLACEHOLDERS[label],
                                    id=f"{label}-{name}",
                                    name=name,
                                    compact=True,
                                )
                    yield Static("Reading…", id=f"status-{name}", classes="status")
                    if report.chart:
                        yield Static(id=f"chart-{name}", classes="chart")
                    yield PagedTable(report.columns, "rows", id=f"list-{name}", key=ROW)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = screen_title(self.admin.db.pack, self.job)[0]
        self.action_reload()

    def action_reload(self) -> None:
        for report in self.reports:
            self._restart(report)

    def _report(self, name: str) -> Report:
        return next(r for r in self.reports if r.name == name)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """Apply typed filters once typing pauses, not at every prefix of an email."""
        report = self._report(str(event.input.name))
        if report.name in self._typing:
            self._typing[report.name].stop()
        self._typing[report.name] = self.set_timer(TYPING_PAUSE, lambda: self._restart(report))

    def _restart(self, report: Report) -> None:
        """The report read again from its first page, with the filters as typed; a filter that
        doesn't read (a since of '7x') is said on its line and the rows are left alone."""
        db, name = self.admin.db, report.name
        given: dict[str, Any] = {}
        try:
            for label in reports.filters(db, report):
                text = self.query_one(f"#{label}-{name}", Input).value.strip()
                if text:
                    given[label] = parse_since(text, field="since") if label == "since" else text
        except AdminError as error:
            said = Text(f"{error} (still showing the filters before)", style="bold red")
            self.query_one(f"#status-{name}", Static).update(said)
            return
        now = self.admin.now()
        numbers = itertools.count()  # rows are keyed by their place: a report's rows need no id

        def fetch(after: Any) -> tuple[list[dict[str, Any]], Any]:
            found = reports.read(db, report, **given, after=after, now=now)
            if self._fetch.get(name) is fetch:  # a read the filters since replaced says nothing
                self._found[name] = found
            return [dict(row) | {ROW: str(next(numbers))} for row in found.rows], found.after

        self._fetch[name] = fetch
        self._found.pop(name, None)
        self.query_one(f"#status-{name}", Static).update("Reading…")
        self.query_one(f"#list-{name}", PagedTable).restart(fetch)

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        """A report's rows arrived: its line says how many (of how many it finds), its total,
        and its chart is drawn from them."""
        table = message.table
        if table is None:
            return
        name = (table.id or "").removeprefix("list-")
        report, found = self._report(name), self._found.get(name)
        status = self.query_one(f"#status-{name}", Static)
        if message.error or found is None:
            status.update(Text(message.text, style="bold red" if message.error else ""))
            return
        said = message.text
        if found.found > table.row_count:
            said = f"{found.found:,} found; the first {table.row_count:,} shown"
        elif found.more and found.after is None:
            said = f"the first {table.row_count:,} rows (more match)"
        said = f"{report.title}: {said}"
        if found.total is not None:
            said += f" · {reports.words(report.total)}: {found.total:,}"
        if any("user_id" in row for row in table.loaded.values()):
            said += " · Enter opens the user"
        status.update(said)
        if report.chart:
            self._chart(report, table, found)

    def _chart(self, report: Report, table: PagedTable, found: reports.Found) -> None:
        label, value = report.chart
        summed: dict[str, int | Decimal] = {}
        for row in table.loaded.values():
            number = row[value]
            if isinstance(number, int | Decimal):
                key = str(row[label])
                summed[key] = summed.get(key, 0) + number
        bars = [Bar(key, total, (f"{total:,}",)) for key, total in summed.items()]
        chart = bar_chart(bars, "magenta") if bars else Text("Nothing to chart.")
        of = f" (of the first {table.row_count:,} rows)" if found.more else ""
        heading = f"{value.replace('_', ' ').capitalize()} per {label}{of}\n"
        self.query_one(f"#chart-{report.name}", Static).update(Text(heading).append_text(chart))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the row's user, where it has one."""
        table, key = event.data_table, event.row_key.value
        if isinstance(table, PagedTable) and key:
            user_id = table.loaded.get(key, {}).get("user_id")
            if user_id:
                self.admin.open_user(str(user_id))

    def action_back(self) -> None:
        self.app.pop_screen()
