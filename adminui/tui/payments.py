"""Payments: overview, by month (with a bar chart), by user, every receipt, and Buy Me a
Coffee's payments beside the receipts that granted them (exceptions first; `x` refunds, `v`
verifies the receipt under the cursor); each exportable.

Money comes from adminui.ops.payments as Decimal (summed in cents by the database) and is shown
and exported as is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
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
from adminui.connect import open_bmc
from adminui.errors import AdminError
from adminui.ops import bmc, payments
from adminui.ops.values import counted
from adminui.ops.windows import parse_since
from adminui.output import write_rows
from adminui.tui.cells import cell, failure
from adminui.tui.charts import Bar, bar_chart
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen
from adminui.tui.paged_table import Fetch, PagedTable
from adminui.tui.receipt_actions import ReceiptActions
from adminui.tui.steady_table import SteadyTable

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


BMC_WINDOW = "30d"  # the BMC tab's window until the operator types another
BMC_COLUMNS = ("Issue", "Payment", "Paid (UTC)", "Payer", "Amount", "Receipts", "User")


class PaymentsScreen(ReceiptActions):
    """Revenue and receipts; `e` exports the view on screen."""

    CSS_PATH = "payments.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("e", "export", "Export", tooltip="Write this view to a CSV or JSON file"),
        Binding("r", "reload", "Reload"),
        Binding("t", "toggle_months", "12/24 months", tooltip="Months in the month view"),
        Binding("p", "pending", "Pending queue", tooltip="Verify or refund pending receipts"),
        Binding("b", "bmc", "BMC", tooltip="Buy Me a Coffee's payments against the receipts"),
        Binding("v", "verify_receipt", "Verify", tooltip="Verify the BMC row's pending receipt"),
        Binding("x", "refund_receipt", "Refund", tooltip="Refund the BMC row's receipt"),
    ]

    @dataclass
    class Summaries(Message):
        """Overview, months and payers were read (or failed)."""

        overview: payments.Overview | None
        months: tuple[payments.MonthTotal, ...] = ()
        payers: tuple[payments.UserTotal, ...] = ()
        error: str | None = None

    @dataclass
    class Reconciled(Message):
        """Buy Me a Coffee's payments were read and matched (or failed)."""

        report: bmc.Reconciliation | None
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.months = 12
        self._views: dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]] = {}
        self._matches: tuple[bmc.Match, ...] = ()
        self._acting: Any = None  # the receipt the BMC row's key acts on

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
            if "bmc" in self.admin.db.pack.jobs:
                with TabPane("Buy Me a Coffee", id="bmc"):
                    with Horizontal(id="bmc-filters"):
                        yield Input(
                            BMC_WINDOW, placeholder="since: 30d, 2026-11-01", id="bmc-since"
                        )
                    yield Static(
                        "Press Enter in 'since' (or b) to read Buy Me a Coffee's payments.",
                        id="bmc-status",
                    )
                    yield SteadyTable(id="bmc-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "payments"
        for table_id, columns in (
            ("#statuses", STATUS_COLUMNS),
            ("#months", MONTH_COLUMNS),
            ("#payers", USER_COLUMNS),
            *((("#bmc-table", BMC_COLUMNS),) if self.query("#bmc-table") else ()),
        ):
            table = self.query_one(table_id, DataTable)
            for column in columns:
                table.add_column(column.replace("_", " "), key=column)
        self.action_reload()

    # Buy Me a Coffee: read on demand (it is another service, and slower than the database).

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """BMC's keys only where the product has the job; verify and refund act on a BMC row."""
        if action == "bmc" and "bmc" not in self.admin.db.pack.jobs:
            return False
        return super().check_action(action, parameters)

    def action_bmc(self) -> None:
        """Show the BMC tab and read the payments of its window."""
        self.query_one(TabbedContent).active = "bmc"
        self.query_one("#bmc-table", DataTable).focus()
        self._reconcile()

    def _reconcile(self) -> None:
        text = self.query_one("#bmc-since", Input).value.strip() or BMC_WINDOW
        try:
            since = parse_since(text, self.admin.now())
        except AdminError as error:
            self.query_one("#bmc-status", Static).update(Text(str(error)))
            return
        self.query_one("#bmc-status", Static).update("Reading Buy Me a Coffee…")
        self.reconcile(since)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bmc")
    def reconcile(self, since: Any) -> None:
        """Page through BMC (a few pages at a time) and match the receipts, off the UI
        thread; leaving the screen stops it between pages."""
        worker = get_current_worker()
        status = self.query_one("#bmc-status", Static)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(
                status.update, f"Reading Buy Me a Coffee… page {done} of {total}"
            )

        try:
            db = self.admin.db
            with open_bmc(db.profile, from_csv=None, interactive=False) as source:
                report = bmc.reconcile(db, source, since, progress, lambda: worker.is_cancelled)
            message = self.Reconciled(report)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Reconciled(None, failure(error))
        if not worker.is_cancelled:
            self.post_message(message)

    def on_payments_screen_reconciled(self, message: Reconciled) -> None:
        status = self.query_one("#bmc-status", Static)
        report = message.report
        if report is None:
            status.update(Text(message.error or "", style="bold red"))
            return
        table = self.query_one("#bmc-table", DataTable)
        # After a fix the rows move: the cursor stays on the payment it was on.
        kept = (
            self._matches[table.cursor_row].payment if self._matches and table.row_count else None
        )
        self._matches = report.matches
        table.clear()
        for match in report.matches:
            p, receipts = match.payment, match.receipts
            table.add_row(
                Text(match.issue.replace("_", " "), style="bold red" if match.issue else "dim"),
                cell(p.reference if p else "—"),
                cell(f"{p.created:%Y-%m-%d %H:%M}" if p else ""),
                cell(p.payer_email if p else ""),
                cell(f"{p.amount} {p.currency}" if p else ""),
                cell(", ".join(f"{r.status} {r.amount_usd}" for r in receipts) or "none"),
                cell(", ".join(r.email or "?" for r in receipts)),
            )
        self._views["bmc"] = ([m.plain() for m in report.matches], bmc.MATCH_COLUMNS)
        rows = [n for n, m in enumerate(report.matches) if kept and _same(m.payment, kept)]
        if rows:
            table.move_cursor(row=rows[0])
        found = [f"{count} {bmc.ISSUES[issue]}" for issue, count in report.counts.items() if count]
        status.update(
            Text(
                f"{len(report.matches):,} payments and receipts since "
                f"{report.since:%Y-%m-%d %H:%M} UTC ({report.requests} requests). "
                + (
                    "; ".join(found) + ". x refunds, v verifies the row's receipt."
                    if found
                    else "No exceptions."
                )
            )
        )

    def _selected_match(self) -> bmc.Match | None:
        if self.query_one(TabbedContent).active != "bmc" or not self._matches:
            self.notify("Select a row of the Buy Me a Coffee tab (b).", severity="warning")
            return None
        row = self.query_one("#bmc-table", DataTable).cursor_row
        return self._matches[row] if 0 <= row < len(self._matches) else None

    def action_verify_receipt(self) -> None:
        """Verify only a row whose pending receipt's payment is there and not refunded."""
        match = self._selected_match()
        if match is not None and match.issue != "pending_matches":
            self.notify(
                "Only a 'pending matches' row is verified from here (its payment is there, "
                "not refunded, granted nowhere else).",
                severity="warning",
            )
            return
        if match is not None:
            self._acting = match.receipt
            super().action_verify_receipt()

    def action_refund_receipt(self) -> None:
        match = self._selected_match()
        live = [r for r in (match.receipts if match else ()) if r.status != "refunded"]
        if match is not None and not live:
            self.notify("This row has no receipt to refund.", severity="warning")
            return
        if match is not None:
            # Granted twice: the later grant goes; BMC refunded: the one still granted.
            chosen = {"granted_twice": live[-1], "refunded_at_bmc": match.receipt}
            self._acting = chosen.get(match.issue, live[0])
            super().action_refund_receipt()

    def selected_receipt_id(self) -> str | None:
        """The receipt the verify or refund key chose from the BMC row."""
        return self._acting.id if self._acting else None

    def after_receipt_change(self) -> None:
        self.load_summaries(self.months)
        self._reconcile()

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
            read = payments.summaries(db, months, self.admin.now())
            message = self.Summaries(read.overview, read.months, read.payers)
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

    def on_input_changed(self, event: Input.Changed) -> None:
        """A filter changed: the list starts over (BMC's window is read on Enter)."""
        if event.input.id != "bmc-since":
            self._reload_list()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "bmc-since":
            self._reconcile()

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
        """Enter on a receipt (or a BMC row's) opens its user."""
        if event.data_table.id == "bmc-table":
            match = (
                self._matches[event.cursor_row] if event.cursor_row < len(self._matches) else None
            )
            if match is not None and match.receipt is not None:
                self.admin.open_user(match.receipt.user_id)
            return
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


def _same(payment: Any, other: Any) -> bool:
    """One BMC payment, whatever BMC says of it now."""
    return payment is not None and (payment.kind, payment.id) == (other.kind, other.id)
