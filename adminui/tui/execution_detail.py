"""One run whole for on-call: its full error first (scroll, select, copy), then every column,
its idea and its outputs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TextArea
from textual.worker import get_current_worker

from adminui.ops import executions
from adminui.tui.cells import cell, failure
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp


class ExecutionDetailScreen(Screen[None]):
    """One run: every column, its idea and outputs, the whole error (scroll, select, copy)."""

    CSS_PATH = "execution_detail.tcss"
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
            yield SteadyTable(id="outputs", cursor_type="row")
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
