"""The pending queue: receipts waiting for verification, oldest first; verify or refund them."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from adminui.ops import credits
from adminui.tui.cells import cell, failure
from adminui.tui.fitted_table import FittedTable
from adminui.tui.receipt_actions import ReceiptActions

COLUMNS = ("Created (UTC)", "Email", "USD", "Credits", "Reference", "Notes")


class PendingReceiptsScreen(ReceiptActions):
    """Pending receipts; `v` verifies (grants the credits), `x` refunds, Enter opens the user."""

    CSS_PATH = "pending_receipts.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("v", "verify_receipt", "Verify", tooltip="Grant the receipt's credits"),
        Binding("x", "refund_receipt", "Refund", tooltip="Mark refunded (no credits change)"),
        Binding("r", "reload", "Reload"),
    ]

    @dataclass
    class Loaded(Message):
        """The queue was read (or failed)."""

        receipts: tuple[credits.ReceiptInfo, ...]
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self._users: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading pending receipts…", id="status")
        # The notes give way first, then the email: the reference stays whole at 80 columns.
        yield FittedTable(
            give_way=("Notes", "Email"), id="pending", cursor_type="row", zebra_stripes=True
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "pending receipts"
        table = self.query_one("#pending", DataTable)
        for label in COLUMNS:
            table.add_column(label, key=label)
        self.action_reload()

    def action_reload(self) -> None:
        """Read the queue again."""
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pending")
    def load(self) -> None:
        """Read the queue off the UI thread."""
        try:
            message = self.Loaded(credits.pending_receipts(self.admin.db))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Loaded((), failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_pending_receipts_screen_loaded(self, message: Loaded) -> None:
        """Fill the table, oldest first."""
        status = self.query_one("#status", Static)
        if message.error:
            status.update(message.error)
            return
        table = self.query_one("#pending", DataTable)
        table.clear()
        self._users = {r.id: r.user_id for r in message.receipts}
        for r in message.receipts:
            table.add_row(
                cell(r.created_at),
                cell(r.email),
                cell(r.amount_usd),
                cell(r.credits_purchased),
                cell(r.bmc_reference),
                cell(r.notes),
                key=r.id,
            )
        table.call_after_refresh(table.fit)
        count = len(message.receipts)
        status.update(
            f"{count} pending receipt{'' if count == 1 else 's'}, oldest first."
            if count
            else "No receipt is waiting for verification."
        )
        table.focus()

    def selected_receipt_id(self) -> str | None:
        """The receipt under the cursor."""
        table = self.query_one("#pending", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def after_receipt_change(self) -> None:
        """A verified or refunded receipt leaves the queue."""
        self.action_reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter opens the receipt's user."""
        user_id = self._users.get(event.row_key.value or "")
        if user_id:
            self.admin.open_user(user_id)

    def action_back(self) -> None:
        """Back to where the queue was opened from."""
        self.app.pop_screen()
