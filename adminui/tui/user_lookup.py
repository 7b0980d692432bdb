"""The home screen: the newest users at once, and a search that updates as you type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import get_current_worker

from adminui.ops import users
from adminui.tui.cells import cell, failure
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp


class SearchInput(Input):
    """The search box, with ↓ and Enter named in the footer (↓ moves into the results, Enter
    opens the only match): an Input's own bindings for them are hidden."""

    BINDINGS = [
        Binding("down", "screen.focus_results", "Results", key_display="↓"),
        Binding("enter", "submit", "Open", show=True),
    ]


class ResultsTable(SteadyTable):
    """The results, with Enter named in the footer (it opens the user under the cursor)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", show=True)]


class UserLookupScreen(Screen[None]):
    """Search users by email, name, id prefix or BMC reference; Enter opens one."""

    CSS_PATH = "user_lookup.tcss"
    BINDINGS = [
        Binding("slash", "focus_search", "Search", tooltip="Type to search users"),
        Binding("down", "focus_results", "Results", show=False),
        Binding("escape", "clear", "Clear", tooltip="Clear the search"),
    ]
    DEBOUNCE_SECONDS = 0.15
    # Least important last: at 80 columns it is the one cut short.

    @dataclass
    class Loaded(Message):
        """A search (or the recent list) finished; `generation` says which request it answers."""

        generation: int
        found: users.UserList | None
        note: str
        error: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._shown = 0  # the generation the table shows: equal to _generation when up to date
        self._debounce: Timer | None = None

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchInput(placeholder=self.admin.db.pack.lookup.search, id="search")
        yield Static("Loading the newest users…", id="status")
        yield ResultsTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        for _, label in self.admin.db.pack.lookup.shown:
            table.add_column(label, key=label)
        self.search(self._next_generation(), "")

    @property
    def up_to_date(self) -> bool:
        """The table answers what is in the search box now (no newer search pending)."""
        return self._shown == self._generation

    def _next_generation(self) -> int:
        self._generation += 1
        return self._generation

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search once typing pauses; every keystroke makes earlier requests stale."""
        generation = self._next_generation()
        if len(event.value.strip()) >= users.MIN_SEARCH:
            self.query_one("#status", Static).update("Searching…")
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(
            self.DEBOUNCE_SECONDS, lambda: self.search(generation, event.value)
        )

    def on_input_submitted(self) -> None:
        """Enter in the search box opens the only match, or moves into the results."""
        table = self.query_one("#results", DataTable)
        if table.row_count == 1 and self.up_to_date:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if key is not None:
                self.admin.open_user(key)
                return
        self.action_focus_results()

    @work(thread=True, exclusive=True, exit_on_error=False, group="user-search")
    def search(self, generation: int, text: str) -> None:
        """Run the search (or the recent list) off the UI thread."""
        db = self.admin.db
        try:
            if len(text.strip()) < users.MIN_SEARCH:
                found = users.recent_users(db)
                hint = (
                    f" Type {users.MIN_SEARCH} or more characters to search."
                    if text.strip()
                    else ""
                )
                message = self.Loaded(generation, found, f"Newest {found.describe()}.{hint}")
            else:
                found = users.find_users(db, text)
                message = self.Loaded(generation, found, f"{found.describe()} found.")
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Loaded(generation, None, "", failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_user_lookup_screen_loaded(self, message: Loaded) -> None:
        """Show results, unless a newer request has been made since."""
        if message.generation != self._generation:
            return
        status = self.query_one("#status", Static)
        if message.error is not None:
            # The rows below answered an earlier search, not the text in the box: not kept.
            self.query_one("#results", DataTable).clear()
            status.update(Text(message.error))
            status.add_class("error")
            return
        status.remove_class("error")
        assert message.found is not None
        status.update(message.note if message.found.rows else "No user matches.")
        table = self.query_one("#results", DataTable)
        table.clear()
        self._shown = message.generation
        shown = [column for column, _ in self.admin.db.pack.lookup.shown]
        for row in message.found.rows:
            table.add_row(*(cell(row[column]) for column in shown), key=row.id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens that user."""
        if event.row_key.value is not None:
            self.admin.open_user(event.row_key.value)

    def action_focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#search", Input).focus()

    def action_focus_results(self) -> None:
        """Move into the result list."""
        table = self.query_one("#results", DataTable)
        if table.row_count:
            table.focus()

    def action_clear(self) -> None:
        """Empty the search box (and so show the newest users again)."""
        search = self.query_one("#search", Input)
        search.value = ""
        search.focus()
