"""One user's usage, as the product's manifest lays it out ([lookup]): a panel of facts about who
they are on top, the others (credits, activity) beside each other, then a table per list (Idea
Expansion's executions, receipts and credentials). Receipts are verified or refunded here where
the product offers its credit jobs."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, Static
from textual.worker import get_current_worker

from adminui.ops import users
from adminui.packs import Lookup, Panel
from adminui.tui.cells import cell, fact, failure, fields
from adminui.tui.receipt_actions import ReceiptActions
from adminui.tui.steady_table import SteadyTable


def _panel_id(panel: Panel) -> str:
    return panel.title.lower().replace(" ", "-")


def _facts(rows: list[tuple[str, str]]) -> Table:
    """A two-column label/value grid; values are literal text."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, Text(value))
    return grid


class UserDetailScreen(ReceiptActions):
    """Everything support checks for one user; Esc goes back."""

    CSS_PATH = "user_detail.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the search"),
        Binding("r", "reload", "Reload", tooltip="Read this user again"),
        Binding("g", "grant", "Grant credits", tooltip="Grant paid credits to this user"),
        Binding("l", "ledger", "Ledger", tooltip="This user's credit transactions"),
        Binding("v", "verify_receipt", "Verify", tooltip="Verify the selected pending receipt"),
        Binding("x", "refund_receipt", "Refund", tooltip="Refund the selected receipt"),
    ]

    @dataclass
    class Loaded(Message):
        """The detail was read (or failed)."""

        detail: users.UserDetail | None
        error: str | None = None

    def __init__(self, user_id: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.email: str | None = None

    @property
    def lookup(self) -> Lookup:
        return self.admin.db.pack.lookup

    def compose(self) -> ComposeResult:
        first, *rest = self.lookup.panels
        yield Header()
        with VerticalScroll(id="detail"):
            with Vertical(id="summary"):
                yield Static(id=_panel_id(first), classes="panel")
                with Horizontal(id="numbers"):
                    for panel in rest:
                        yield Static(id=_panel_id(panel), classes="panel")
            for read in self.lookup.lists:
                yield Label(read.title, classes="section")
                yield SteadyTable(id=read.table, cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        if "credits" in self.admin.db.pack.jobs:
            from adminui.tui.grant_forms import form_for, relabel  # the money modules load late

            form = form_for(self.admin.db.pack)
            relabel(self, "g", f"{form.verb} {form.what}")
        for read in self.lookup.lists:
            table = self.query_one(f"#{read.table}", DataTable)
            for _, label in read.shown:
                table.add_column(label, key=label)
        for panel in self.lookup.panels:
            self.query_one(f"#{_panel_id(panel)}").border_title = panel.title
        self.action_reload()

    def action_reload(self) -> None:
        """Read the user again."""
        self.query_one("#detail").loading = True
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="user-detail")
    def load(self) -> None:
        """Read the detail off the UI thread."""
        try:
            detail = users.get_user_detail(self.admin.db, self.user_id, now=self.admin.now())
            message = self.Loaded(detail)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Loaded(None, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_user_detail_screen_loaded(self, message: Loaded) -> None:
        """Fill every panel and table from one consistent read."""
        self.query_one("#detail").loading = False
        if message.error is not None or message.detail is None:
            self.notify(
                message.error or "The user could not be read.", severity="error", markup=False
            )
            return
        d = message.detail
        self.email = d.email
        self.sub_title = d.email
        for panel in self.lookup.panels:
            needed = set().union(*(fields(template) for _, template in panel.facts))
            if panel.needs and not d.get(panel.needs):
                shown: Table | Text = Text(panel.missing, style="bold")
            elif not needed <= set(d):  # read from a database the profile doesn't name
                shown = Text(d.get("unreachable", ""))
            else:
                shown = _facts([(label, fact(template, d)) for label, template in panel.facts])
            self.query_one(f"#{_panel_id(panel)}", Static).update(shown)
        for read in self.lookup.lists:
            rows = d.get(read.list)
            if rows is None:
                self._fill(f"#{read.table}", [], d.get("unreachable", ""))
                continue
            columns = [column for column, _ in read.shown]
            self._fill(
                f"#{read.table}",
                [
                    (str(row[read.key]) if read.key else str(n), tuple(row[c] for c in columns))
                    for n, row in enumerate(rows)
                ],
            )
            if read.of:
                table = self.query_one(f"#{read.table}", DataTable)
                table.border_title = f"{len(rows)} of {d[read.of]:,}"

    def _fill(
        self, table_id: str, rows: list[tuple[str, tuple[object, ...]]], empty: str = "none"
    ) -> None:
        table = self.query_one(table_id, DataTable)
        table.clear()
        for key, values in rows:
            table.add_row(*(cell(v) for v in values), key=key)
        if not rows:
            table.add_row(*(cell(empty if i == 0 else None) for i in range(len(table.columns))))

    def selected_receipt_id(self) -> str | None:
        """The receipt under the receipts table's cursor."""
        table = self.query_one("#receipts", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None:
            self.notify("Move to a receipt in the Receipts table first.", severity="warning")
        return key

    def after_receipt_change(self) -> None:
        """Show the new balance and receipt state."""
        self.action_reload()

    def action_grant(self) -> None:
        """Open the grant screen for this user."""
        self.admin.open_grant(self.email or self.user_id)

    def action_ledger(self) -> None:
        """Open the credit ledger on this user's transactions."""
        self.admin.open_ledger(self.user_id)

    def on_screen_resume(self) -> None:
        """Coming back (after a grant, say): read the user again."""
        if self.email is not None:
            self.action_reload()

    def action_back(self) -> None:
        """Return to the search."""
        self.app.pop_screen()
