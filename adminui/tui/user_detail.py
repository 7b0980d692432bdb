"""One user's usage: profile, credits, activity, latest executions, receipts, credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
from adminui.tui.cells import cell, failure, when
from adminui.tui.receipt_actions import ReceiptActions

if TYPE_CHECKING:
    pass

EXECUTION_COLUMNS = ("Started (UTC)", "Status", "Format", "Step", "Tokens", "Secs", "Error")
RECEIPT_COLUMNS = ("Created (UTC)", "USD", "Credits", "Reference", "Status", "By", "Notes")
CREDENTIAL_COLUMNS = ("Provider", "Active", "Validation", "Updated (UTC)")


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

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            with Vertical(id="summary"):
                yield Static(id="profile", classes="panel")
                with Horizontal(id="numbers"):
                    yield Static(id="credits", classes="panel")
                    yield Static(id="activity", classes="panel")
            yield Label("Latest executions", classes="section")
            yield DataTable(id="executions", cursor_type="row", zebra_stripes=True)
            yield Label("Receipts", classes="section")
            yield DataTable(id="receipts", cursor_type="row", zebra_stripes=True)
            yield Label("Credentials", classes="section")
            yield DataTable(id="credentials", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (
            ("#executions", EXECUTION_COLUMNS),
            ("#receipts", RECEIPT_COLUMNS),
            ("#credentials", CREDENTIAL_COLUMNS),
        ):
            table = self.query_one(table_id, DataTable)
            for label in columns:
                table.add_column(label, key=label)
        self.query_one("#profile").border_title = "Profile"
        self.query_one("#credits").border_title = "Credits"
        self.query_one("#activity").border_title = "Activity"
        self.action_reload()

    def action_reload(self) -> None:
        """Read the user again."""
        self.query_one("#detail").loading = True
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="user-detail")
    def load(self) -> None:
        """Read the detail off the UI thread."""
        try:
            message = self.Loaded(users.get_user_detail(self.admin.db, self.user_id))
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
        self.query_one("#profile", Static).update(
            _facts(
                [
                    ("Email", d.email),
                    ("Name", d.name or "—"),
                    ("Id", d.id),
                    ("Timezone", d.timezone or "—"),
                    ("Created", when(d.created_at)),
                ]
            )
        )
        if d.has_usage_tracking:
            credits = _facts(
                [
                    ("Free left", f"{d.free_expansions_remaining:,}"),
                    ("Paid left", f"{d.paid_credits_remaining:,}"),
                    ("Total", f"{d.total:,}"),
                    (
                        "Used",
                        f"{d.total_expansions_used:,} ({d.total_free_used:,} free, "
                        f"{d.total_paid_used:,} paid)",
                    ),
                ]
            )
            self.query_one("#credits", Static).update(credits)
        else:
            self.query_one("#credits", Static).update(
                Text(
                    "No usage_tracking row: the sign-up trigger did not run for this user.",
                    style="bold",
                )
            )
        self.query_one("#activity", Static).update(
            _facts(
                [
                    ("Ideas", f"{d.ideas:,}"),
                    ("Outputs", f"{d.outputs:,}"),
                    ("Executions", f"{d.total_executions:,}"),
                    (
                        "By status",
                        f"{d.successful:,} completed · {d.failed:,} failed · "
                        f"{d.partial:,} partial · {d.running:,} running",
                    ),
                    ("Tokens", f"{d.total_tokens:,}"),
                ]
            )
        )
        self._fill(
            "#executions",
            [
                (
                    e.id,
                    (
                        e.started_at,
                        e.status,
                        e.format_chosen,
                        e.error_step,
                        e.tokens_used,
                        e.duration_seconds,
                        e.error,
                    ),
                )
                for e in d.recent_executions
            ],
        )
        self._fill(
            "#receipts",
            [
                (
                    r.id,
                    (
                        r.created_at,
                        r.amount_usd,
                        r.credits_purchased,
                        r.bmc_reference,
                        r.status,
                        r.verified_by,
                        r.notes,
                    ),
                )
                for r in d.receipts
            ],
        )
        self._fill(
            "#credentials",
            [
                (c.provider, (c.provider, c.is_active, c.validation_status, c.updated_at))
                for c in d.credentials
            ],
        )
        self.query_one(
            "#executions", DataTable
        ).border_title = f"{len(d.recent_executions)} of {d.total_executions:,}"

    def _fill(self, table_id: str, rows: list[tuple[str, tuple[object, ...]]]) -> None:
        table = self.query_one(table_id, DataTable)
        table.clear()
        for key, values in rows:
            table.add_row(*(cell(v) for v in values), key=key)
        if not rows:
            table.add_row(*(cell("none" if i == 0 else None) for i in range(len(table.columns))))

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

    def on_screen_resume(self) -> None:
        """Coming back (after a grant, say): read the user again."""
        if self.email is not None:
            self.action_reload()

    def action_back(self) -> None:
        """Return to the search."""
        self.app.pop_screen()
