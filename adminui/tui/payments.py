"""Payments: overview, by month (with a bar chart), by user, and every receipt; each exportable.

Money comes from adminui.ops.payments as Decimal (summed in cents by the database) and is shown
and exported as is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
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
)
from textual.worker import get_current_worker

from adminui.config import data_dir
from adminui.errors import AdminError
from adminui.ops import payments
from adminui.ops.values import counted
from adminui.ops.windows import parse_since
from adminui.output import write_rows
from adminui.tui.cells import cell, failure
from adminui.tui.charts import Bar, bar_chart
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen
from adminui.tui.paged_table import Fetch, PagedTable
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp

STATUS_COLUMNS, MONTH_COLUMNS, USER_COLUMNS, LIST_COLUMNS = (
    payments.VIEW_COLUMNS[view] for view in ("status", "month", "user", "list")
)
PAGE = 200


def month_chart(months: tuple[payments.MonthTotal, ...]) -> Table:
    """Verified USD per month as horizontal bars (refunds in the last column)."""
    return bar_chart(
        (
            Bar(
                m.month,
                m.verified_usd,
                (
                    f"{m.verified_usd:,}",
                    Text(f"-{m.refunded_usd:,}" if m.refunded_usd else "", style="red"),
                ),
            )
            for m in months
        ),
        style="green",
    )


class PaymentsScreen(Screen[None]):
    """Revenue and receipts; `e` exports the view on screen."""

    CSS_PATH = "payments.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "export", "Export", tooltip="Write this view to a CSV or JSON file"),
        Binding("r", "reload", "Reload"),
        Binding("t", "toggle_months", "12/24 months", tooltip="Months in the month view"),
        Binding("p", "pending", "Pending queue", tooltip="Verify or refund pending receipts"),
    ]

    @dataclass
    class Summaries(Message):
        """Overview, months and payers were read (or failed)."""

        overview: payments.Overview | None
        months: tuple[payments.MonthTotal, ...] = ()
        payers: tuple[payments.UserTotal, ...] = ()
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.months = 12
        self._views: dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]] = {}

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="overview"):
            with TabPane("Overview", id="overview"), VerticalScroll():
                yield Static("Loading…", id="overview-text")
                yield SteadyTable(id="statuses", cursor_type="row")
            with TabPane("By month", id="month"), VerticalScroll():
                yield Static(id="chart")
                yield SteadyTable(id="months", cursor_type="row", zebra_stripes=True)
            with TabPane("By user", id="user"):
                yield SteadyTable(id="payers", cursor_type="row", zebra_stripes=True)
            with TabPane("All payments", id="list"):
                with Horizontal(id="filters"):
                    yield Select(
                        [(s, s) for s in payments.STATUSES], prompt="any status", id="status"
                    )
                    yield Input(placeholder="since: 7d, 12m, 2026-01-31", id="since")
                    yield Input(placeholder="until: 2026-02-01", id="until")
                    yield Input(placeholder="reference or email", id="search")
                yield Static(id="list-status")
                yield PagedTable(LIST_COLUMNS, "receipts", id="payments", give_way=("email", "id"))
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "payments"
        for table_id, columns in (
            ("#statuses", STATUS_COLUMNS),
            ("#months", MONTH_COLUMNS),
            ("#payers", USER_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            for column in columns:
                table.add_column(column.replace("_", " "), key=column)
        self.action_reload()

    def action_reload(self) -> None:
        """Read every view again."""
        self.load_summaries(self.months)
        self._reload_list()

    def action_toggle_months(self) -> None:
        """Switch the month view between 12 and 24 months."""
        self.months = 36 - self.months
        self.load_summaries(self.months)

    @work(thread=True, exclusive=True, exit_on_error=False, group="payment-summaries")
    def load_summaries(self, months: int) -> None:
        """Read the summaries off the UI thread."""
        db = self.admin.db
        try:
            message = self.Summaries(
                payments.overview(db, self.admin.now()),
                payments.by_month(db, months, self.admin.now()),
                payments.by_user(db, 100),
            )
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Summaries(None, error=failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_payments_screen_summaries(self, message: Summaries) -> None:
        """Fill the overview, the month chart and table, and the payers."""
        if message.overview is None:
            self.query_one("#overview-text", Static).update(Text(message.error or ""))
            return
        view = message.overview
        age = view.oldest_pending_age
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="bold")
        facts.add_column()
        for label, value in (
            ("This month (verified)", f"{view.this_month_usd:,} USD"),
            ("Last month (verified)", f"{view.last_month_usd:,} USD"),
            (
                "Average receipt",
                f"{view.average_receipt_usd:,} USD"
                if view.average_receipt_usd is not None
                else "—",
            ),
            (
                "Pending",
                f"{view.pending:,} receipt(s)"
                + (f", oldest {age.days} days {age.seconds // 3600} h old" if age else ""),
            ),
        ):
            facts.add_row(label, value)
        self.query_one("#overview-text", Static).update(facts)
        self._fill(
            "#statuses", "overview", STATUS_COLUMNS, [dataclasses.asdict(s) for s in view.by_status]
        )
        self.query_one("#chart", Static).update(month_chart(message.months))
        self._fill(
            "#months", "month", MONTH_COLUMNS, [dataclasses.asdict(m) for m in message.months]
        )
        self._fill("#payers", "user", USER_COLUMNS, [dataclasses.asdict(u) for u in message.payers])

    def _fill(
        self, table_id: str, view: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> None:
        table = self.query_one(table_id, DataTable)
        table.clear()
        for row in rows:
            table.add_row(*(cell(row[c]) for c in columns))
        self._views[view] = (rows, columns)

    # The list of receipts: filters, keyset pages loaded as the cursor nears the end.

    def on_input_changed(self) -> None:
        """A filter changed: the list starts over."""
        self._reload_list()

    def on_select_changed(self) -> None:
        """The status filter changed."""
        self._reload_list()

    def _filters(self) -> dict[str, Any]:
        status = self.query_one("#status", Select).value
        since = self.query_one("#since", Input).value.strip()
        until = self.query_one("#until", Input).value.strip()
        return {
            "status": status if isinstance(status, str) else None,
            "since": parse_since(since) if since else None,
            "until": parse_since(until, field="until") if until else None,
            "search": self.query_one("#search", Input).value or None,
        }

    def _fetcher(self, filters: dict[str, Any], limit: int) -> Fetch:
        """Pages of receipts under these filters, for the table and the export."""
        db = self.admin.db

        def fetch(after: Any) -> tuple[list[dict[str, Any]], Any]:
            page = payments.list_payments(db, after=after, limit=limit, **filters)
            return [dataclasses.asdict(r) for r in page.rows], page.after

        return fetch

    def _reload_list(self) -> None:
        try:
            filters = self._filters()
        except AdminError as error:  # a malformed since/until: said where the count would be
            self.query_one("#list-status", Static).update(Text(str(error)))
            return
        self._views["list"] = ([], LIST_COLUMNS)  # exported whole, page by page
        self.query_one("#payments", PagedTable).restart(self._fetcher(filters, PAGE))

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        """The list says what it holds."""
        self.query_one("#list-status", Static).update(Text(message.text))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a receipt opens its user."""
        row = self.query_one("#payments", PagedTable).loaded.get(event.row_key.value or "")
        if event.data_table.id == "payments" and row:
            self.admin.open_user(row["user_id"])

    # Export.

    def action_export(self) -> None:
        """Ask where, then write the view on screen as CSV or JSON (by the file's ending)."""
        view = self.query_one(TabbedContent).active
        if view not in self._views:
            self.notify("Nothing loaded in this view yet.", severity="warning")
            return
        suggested = data_dir() / "exports" / f"payments-{view}.csv"
        self.app.push_screen(
            ReasonScreen(f"Export '{view}' to which file? (.csv or .json)", str(suggested)),
            lambda answer: self._export(view, Path(answer).expanduser()) if answer else None,
        )

    def _export(self, view: str, path: Path) -> None:
        """The format by the file's ending; asked first before a folder is made or a file
        written over."""
        formats = {".csv": "csv", ".json": "json"}
        fmt = formats.get(path.suffix.lower())
        if fmt is None:
            self.notify(
                f"Name a file ending in .csv or .json (not '{path.suffix or 'no ending'}').",
                severity="warning",
                markup=False,
            )
            return
        try:
            filters = self._filters() if view == "list" else {}
        except AdminError as error:  # a malformed since/until in the filters
            self.notify(str(error), severity="error", markup=False)
            return
        questions = []
        if not path.parent.is_dir():
            questions.append(f"The folder {path.parent} does not exist. Create it?")
        elif path.exists():
            questions.append(f"{path} exists. Write over it?")

        def go(yes: bool | None = True) -> None:
            if yes:
                self.notify(f"Exporting '{view}' to {path} as {fmt.upper()}…", markup=False)
                self.export(view, path, fmt, filters)

        if questions:
            self.app.push_screen(ConfirmScreen(questions[0], "Yes"), go)
        else:
            go()

    @work(thread=True, exclusive=True, exit_on_error=False, group="payment-export")
    def export(self, view: str, path: Path, fmt: str, filters: dict[str, Any]) -> None:
        """Write the view: the summaries as shown, the list whole (every page that matches the
        filters, not only those loaded), streamed page by page."""
        rows, columns = self._views[view]
        pages: Any = [rows] if view != "list" else self._all_pages(filters)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # asked, when it was missing
            with path.open("w", encoding="utf-8", newline="") as handle:
                count = write_rows(handle, pages, columns, fmt)
            text = f"Wrote {counted(count, 'row')} to {path} as {fmt.upper()}"
            severity = "information"
        except Exception as error:  # shown on screen; a worker must never die silently
            text, severity = f"Could not export to {path}: {failure(error)}", "error"
        self.app.call_from_thread(self.notify, text, severity=severity, markup=False)

    def _all_pages(self, filters: dict[str, Any]) -> Any:
        fetch, after = self._fetcher(filters, 1000), None
        while True:
            rows, after = fetch(after)
            yield rows
            if after is None:
                return

    def action_pending(self) -> None:
        """Open the pending receipts queue (verify, refund)."""
        self.admin.open_pending()

    def action_back(self) -> None:
        """Back to where payments were opened from."""
        self.app.pop_screen()
