"""The processing history screen (on-call): the summary by status, and each list of the
product's history (fltr: processing jobs, failed documents) in its own tab, newest first,
paged as the cursor goes down. `s` shows one status after another of a list that has them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from adminui.ops import history
from adminui.ops.records import Record
from adminui.packs import HistoryList
from adminui.tui.cells import cell, failure
from adminui.tui.paged_table import PagedTable
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp


class ProcessingScreen(Screen[None]):
    """The product's processing history."""

    CSS_PATH = "processing.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "next_status", "Status", tooltip="Show one status, the next, or all"),
        Binding("r", "reload", "Reload", tooltip="Read the summary and the lists again"),
    ]

    @dataclass
    class Summary(Message):
        rows: tuple[Record, ...]
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.choice: dict[str, str | None] = {}  # each list's status shown (None: all)

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    @property
    def lists(self) -> tuple[HistoryList, ...]:
        return self.admin.db.pack.processing.lists

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Summary", id="summary"):
                yield Static("Reading…", id="summary-status")
                yield SteadyTable(id="summary-table", cursor_type="row", zebra_stripes=True)
            for listing in self.lists:
                with TabPane(listing.title, id=f"tab-{listing.name}"), Vertical():
                    yield Static("Reading…", id=f"status-{listing.name}", classes="status")
                    yield PagedTable(
                        listing.columns, listing.title.lower(), id=f"list-{listing.name}"
                    )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Processing history"
        table = self.query_one("#summary-table", SteadyTable)
        for column in self.admin.db.pack.processing.summary_columns:
            table.add_column(column.replace("_", " "), key=column)
        self.action_reload()

    def action_reload(self) -> None:
        self.read_summary()
        for listing in self.lists:
            self._restart(listing)

    def _restart(self, listing: HistoryList) -> None:
        db, choice = self.admin.db, self.choice.get(listing.name)

        def fetch(after: Any) -> tuple[list[dict[str, Any]], Any]:
            found = history.page(db, listing, choice, after=after)
            return [dict(row) for row in found.rows], found.after

        self.query_one(f"#list-{listing.name}", PagedTable).restart(fetch)

    @work(thread=True, exclusive=True, exit_on_error=False, group="summary")
    def read_summary(self) -> None:
        try:
            message = self.Summary(history.summary(self.admin.db))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Summary((), failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_processing_screen_summary(self, message: Summary) -> None:
        status = self.query_one("#summary-status", Static)
        if message.error:
            status.update(Text(message.error, style="bold red"))
            return
        table = self.query_one("#summary-table", SteadyTable)
        table.clear()
        columns = self.admin.db.pack.processing.summary_columns
        for row in message.rows:
            table.add_row(*(cell(row[c]) for c in columns))
        status.update("Jobs and documents by status, with the oldest and newest of each.")

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        name = ((message.table.id or "") if message.table else "").removeprefix("list-")
        listing = next(x for x in self.lists if x.name == name)
        shown = self.choice.get(name)
        where = f" · {listing.filter} {shown}" if shown else ""
        hint = f" · s: one {listing.filter} at a time" if listing.filter else ""
        style = "bold red" if message.error else ""
        status = self.query_one(f"#status-{name}", Static)
        status.update(Text(f"{message.text}{where}{hint}", style=style))

    def action_next_status(self) -> None:
        """The shown list's next status (after the last: all of them again)."""
        active = self.query_one("#tabs", TabbedContent).active.removeprefix("tab-")
        listing = next((x for x in self.lists if x.name == active), None)
        if listing is None or not listing.filter:
            self.notify("This tab has no status to choose.", severity="warning")
            return
        order: list[str | None] = [None, *listing.choices]
        now = order.index(self.choice.get(listing.name))
        self.choice[listing.name] = order[(now + 1) % len(order)]
        self._restart(listing)

    def action_back(self) -> None:
        self.app.pop_screen()
