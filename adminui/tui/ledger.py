"""The credit ledger screen (support and the operator): transactions newest first, filtered by
type, operation, user and time and paged as the cursor goes down; the balance check (the users
whose balance is not their ledger's sum, side by side); usage by operation, charted, and the
ledger by month. Enter on a row opens its user."""

from __future__ import annotations

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
from adminui.ops import ledger
from adminui.ops.windows import parse_since
from adminui.tui.cells import cell, failure
from adminui.tui.charts import Bar, bar_chart
from adminui.tui.paged_table import PagedTable
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp

TYPING_PAUSE = 0.4  # seconds without a keystroke before typed filters apply
# Each summary table: its id and the columns the op's rows give it.
SUMMARIES = (
    ("check-table", ledger.CHECK_COLUMNS),
    ("operations-table", ledger.OPERATION_COLUMNS),
    ("months-table", ledger.MONTH_COLUMNS),
)


class LedgerScreen(Screen[None]):
    """The product's credit ledger; opened for one user, its user filter starts filled."""

    CSS_PATH = "ledger.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload", tooltip="Read the ledger, the check and usage again"),
    ]

    @dataclass
    class Summaries(Message):
        """The balance check and usage were read (or failed)."""

        check: ledger.BalanceCheck | None
        usage: ledger.Usage | None
        error: str | None = None

    def __init__(self, user: str = "") -> None:
        super().__init__()
        self.user = user
        self._typing: Timer | None = None

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Transactions", id="transactions"):
                with Horizontal(id="filters"):
                    yield Select(
                        [(t, t) for t in ledger.TYPES], prompt="any type", id="type", compact=True
                    )
                    yield Input(placeholder="operation", id="operation", compact=True)
                    yield Input(self.user, placeholder="user email or id", id="user", compact=True)
                    yield Input(placeholder="since: 7d, 2026-11-01", id="since", compact=True)
                yield Static("Reading…", id="list-status", classes="status")
                yield PagedTable(ledger.LIST_COLUMNS, "transactions, newest first", id="list")
            with TabPane("Balance check", id="check"):
                yield Static("Reading…", id="check-status", classes="status")
                yield SteadyTable(id="check-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Usage", id="usage"), VerticalScroll(id="usage-body"):
                yield Static(id="chart")
                yield SteadyTable(id="operations-table", cursor_type="row", zebra_stripes=True)
                yield Static("The ledger by month (UTC)", classes="status")
                yield SteadyTable(id="months-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Credit ledger"
        for table_id, columns in SUMMARIES:
            table = self.query_one(f"#{table_id}", SteadyTable)
            for column in columns:
                table.add_column(column.replace("_", " "), key=column)
        self.action_reload()

    def action_reload(self) -> None:
        self._restart_list()
        self.read_summaries()

    @on(Input.Changed, "#operation, #user, #since")
    def _typed(self) -> None:
        """Apply typed filters once typing pauses, not at every prefix of an email."""
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(TYPING_PAUSE, self._restart_list)

    @on(Select.Changed, "#type")
    def _restart_list(self) -> None:
        """The filters changed: the list starts over from the newest transaction. A filter that
        doesn't read (a since of '7x') is said on the list's line and the list is left alone."""
        kind = self.query_one("#type", Select).value
        since = self.query_one("#since", Input).value.strip()
        try:
            when = parse_since(since, field="since") if since else None
        except AdminError as error:
            said = Text(f"{error} (still showing the filters before)", style="bold red")
            self.query_one("#list-status", Static).update(said)
            return
        filters: dict[str, Any] = {
            "kind": kind if isinstance(kind, str) else None,
            "operation": self.query_one("#operation", Input).value.strip() or None,
            "user": self.query_one("#user", Input).value.strip() or None,
            "since": when,
        }
        db = self.admin.db

        def fetch(after: tuple[datetime, int] | None) -> tuple[list[dict[str, Any]], Any]:
            found = ledger.page(db, **filters, after=after)
            return [dict(row) for row in found.rows], found.after

        self.query_one("#list", PagedTable).restart(fetch)

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        style = "bold red" if message.error else ""
        self.query_one("#list-status", Static).update(Text(message.text, style=style))

    @work(thread=True, exclusive=True, exit_on_error=False, group="summaries")
    def read_summaries(self) -> None:
        db = self.admin.db
        try:
            message = self.Summaries(ledger.balance_check(db), ledger.usage(db))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Summaries(None, None, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_ledger_screen_summaries(self, message: Summaries) -> None:
        status = self.query_one("#check-status", Static)
        if message.check is None or message.usage is None:
            status.update(Text(message.error or "", style="bold red"))
            self.query_one("#chart", Static).update(Text(message.error or "", style="bold red"))
            return
        check, usage = message.check, message.usage
        for (table_id, columns), rows in zip(
            SUMMARIES, (check.rows, usage.by_operation, usage.by_month), strict=True
        ):
            table = self.query_one(f"#{table_id}", SteadyTable)
            table.clear()
            for row in rows:
                key = str(row["user_id"]) if "user_id" in columns else None
                table.add_row(*(cell(row[c]) for c in columns), key=key)
        shown = (
            f" (the first {len(check.rows):,} by user id)"
            if len(check.rows) < check.unbalanced
            else ""
        )
        status.update(
            f"{check.unbalanced:,} of {check.balances:,} balances are not their ledger's "
            f"sum{shown}. Enter opens the user."
        )
        bars = [
            Bar(str(row["operation"]), row["credits_used"] or 0, (f"{row['credits_used'] or 0:,}",))
            for row in usage.by_operation
        ]
        chart = bar_chart(bars, "magenta") if bars else Text("No usage in the ledger.")
        self.query_one("#chart", Static).update(
            Text("Credits used by operation\n").append_text(chart)
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the row's user (a transaction's, or an unbalanced one's)."""
        table, key = event.data_table, event.row_key.value
        if table.id == "list" and key:
            user_id = self.query_one("#list", PagedTable).loaded[key]["user_id"]
        elif table.id == "check-table":
            user_id = key
        else:
            return
        if user_id:
            self.admin.open_user(str(user_id))

    def action_back(self) -> None:
        self.app.pop_screen()
