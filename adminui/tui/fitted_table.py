"""A table whose columns fit the width it has: every column as wide as its content, except those
named to give way, which are cut (in their order) when the table is too narrow and of which the
first takes whatever room is left. A long free-text column (an error, notes) goes last and gives
way first, so at 80 columns the email is on screen and at 200 no room sits empty beside it.
Where even those cut to NARROWEST can't make it fit, nothing is cut (a squeezed email helps no
one): the table scrolls sideways, its first columns whole.

DataTable sizes columns by content only; the widths are set here on each resize and after rows
are added (through DataTable's column records, as pinned Textual 8.2 keeps them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import events

from adminui.tui.steady_table import SteadyTable

NARROWEST = 10  # a column that gives way keeps at least this many characters


class FittedTable(SteadyTable):
    """A DataTable whose `give_way` columns (keys, in the order they give way) fit it."""

    # The vertical scrollbar's room is kept whether or not it shows, so the width the columns
    # fit doesn't change under them when enough rows arrive to need it.
    DEFAULT_CSS = "FittedTable { scrollbar-gutter: stable; }"

    def __init__(self, *, give_way: Sequence[str], **options: Any) -> None:
        super().__init__(**options)
        self.give_way = tuple(give_way)

    def on_resize(self, _event: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """Set the widths of the columns that give way to what the table's width leaves."""
        room = self.scrollable_content_region.width
        if not room or not self.columns:
            return
        pad = 2 * self.cell_padding
        columns = {key.value: column for key, column in self.columns.items()}
        yielding = [key for key in self.give_way if key in columns]
        fixed = sum(c.content_width + pad for key, c in columns.items() if key not in yielding)
        widths = {key: columns[key].content_width for key in yielding}
        over = fixed + sum(w + pad for w in widths.values()) - room
        if fixed + len(yielding) * (NARROWEST + pad) > room:
            over = 0  # it can't fit: the columns keep their content's width, the table scrolls
        for key in yielding:  # cut, in order, until it fits
            cut = max(0, min(over, widths[key] - NARROWEST))
            widths[key] -= cut
            over -= cut
        if yielding and over < 0:  # room to spare: the first takes it
            widths[yielding[0]] -= over
        changed = False
        for key, width in widths.items():
            column = columns[key]
            if column.auto_width or column.width != width:
                column.auto_width, column.width = False, width
                changed = True
        if changed:
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()
