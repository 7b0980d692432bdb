"""The DataTable every screen shows: Textual's, with the lines it drew before new rows were
measured thrown away once they are.

Pinned Textual 8.2 measures added rows when idle, and caches each drawn line under a count that
measuring does not change: a line drawn in between (the header, as rows arrive) kept the old
column widths for good (a snapshot at 200 columns caught a header narrower than its rows, one
run in a few). Measuring now drops the drawn lines, through the caches DataTable keeps.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class SteadyTable(DataTable):
    """A DataTable whose lines are drawn again after new rows change the column widths."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._clear_caches()
        self.refresh()
