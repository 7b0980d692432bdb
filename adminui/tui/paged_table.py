"""A table that reads its rows a page at a time, as the cursor nears the end of what is loaded,
and lets the oldest go past a window of rows, so memory stays flat however deep one pages.

Screens give it a `fetch(after)` function (rows as dicts, and the next page's cursor or None) and
call `restart` whenever their filters change; pages asked for under older filters are dropped.
The table says what it holds with a `Changed` message, for the screen's status line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import get_current_worker

from adminui.tui.cells import cell, failure
from adminui.tui.fitted_table import FittedTable

Fetch = Callable[[Any], tuple[list[dict[str, Any]], Any]]
# Rows a table holds at most (~5 KB each on screen): past it the oldest half is let go, so paging
# through 100,000 runs keeps the app's memory flat.
WINDOW = 6_000


class PagedTable(FittedTable):
    """Rows keyed by their `key` column (`id` unless told), loaded page by page; `loaded` holds
    them by key. Columns named in `give_way` fit the width (FittedTable)."""

    @dataclass
    class Changed(Message):
        """What the table holds now, in one line (or why it holds nothing); `table` says which
        (a screen may hold several)."""

        text: str
        error: bool = False
        table: PagedTable | None = None

    @dataclass
    class Page(Message):
        """A page arrived; `generation` says which restart asked for it."""

        generation: int
        rows: list[dict[str, Any]]
        after: Any
        first: bool
        error: str | None = None

    def __init__(
        self,
        columns: Sequence[str],
        noun: str,
        *,
        id: str,
        prefetch: int = 20,
        window: int | None = None,
        give_way: Sequence[str] = (),
        key: str = "id",
    ):
        super().__init__(give_way=give_way, id=id, cursor_type="row", zebra_stripes=True)
        self.key = key
        self.shown_columns = tuple(columns)
        self.noun = noun
        self.prefetch = prefetch
        self.loaded: dict[str, dict[str, Any]] = {}
        self.window = window or WINDOW  # rows held at most
        self.read = 0  # rows read since the last restart (held or let go)
        self._fetch: Fetch | None = None
        self._generation = 0
        self._after: Any = None

    def on_mount(self) -> None:
        for column in self.shown_columns:
            self.add_column(column.replace("_", " "), key=column)

    def restart(self, fetch: Fetch) -> None:
        """Start over from the first page with new filters."""
        self._fetch = fetch
        self._generation += 1
        self._after = None
        self._load(self._generation, fetch, None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="page")
    def _load(self, generation: int, fetch: Fetch, after: Any) -> None:
        """One page off the UI thread."""
        try:
            rows, next_after = fetch(after)
            message = self.Page(generation, rows, next_after, after is None)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Page(generation, [], None, after is None, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_paged_table_page(self, message: Page) -> None:
        """Show or append a page, unless a restart made it stale."""
        message.stop()
        if message.generation != self._generation:
            return
        if message.error is not None:
            if message.first:  # what it holds answered other filters: not these rows
                self.clear()
                self.loaded = {}
            self.post_message(self.Changed(message.error, error=True, table=self))
            return
        if message.first:
            self.clear()
            self.loaded = {}
            self.read = 0
        for row in message.rows:
            self.loaded[str(row[self.key])] = row
            self.add_row(*(cell(row[c]) for c in self.shown_columns), key=str(row[self.key]))
        self.read += len(message.rows)
        if self.row_count > self.window:
            self._drop_oldest()
        self.call_after_refresh(self.fit)  # once the new rows' widths are measured
        self._after = message.after
        # A page is the first so many, not all there are: said as such while more can load.
        first = "first " if self._after and self.read == self.row_count else ""
        more = " (more load as you scroll)" if self._after else ""
        held = (
            f"{self.row_count:,} {self.noun}, the last of {self.read:,} read (earlier pages "
            "let go to save memory; r starts over)"
            if self.read > self.row_count
            else f"{first}{self.row_count:,} {self.noun}"
        )
        self.post_message(self.Changed(f"{held}{more}", table=self))

    def _drop_oldest(self) -> None:
        """Keep the newest half of the window: memory stays flat however deep the operator
        pages. Rebuilt in one go (DataTable removes a row in linear time), with the cursor kept
        on its row."""
        at = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        kept = list(self.loaded.items())[-self.window // 2 :]
        self.clear()
        self.loaded = dict(kept)
        for key, row in kept:
            self.add_row(*(cell(row[c]) for c in self.shown_columns), key=key)
        if at in self.loaded:
            self.move_cursor(row=self.get_row_index(at))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Near the end of what is loaded, load the next page (one request per page)."""
        if self._fetch and self._after and event.cursor_row >= self.row_count - self.prefetch:
            after, self._after = self._after, None
            self._load(self._generation, self._fetch, after)
