"""Horizontal bar charts drawn with Rich, shared by the screens that summarise (payments by month,
failures by step and per hour or day), so every chart on screen reads the same way.

A chart is one Text line per bar, padded by hand rather than laid out as a Rich Table: a table
measures every cell, which costs about half a second on the UI thread for two years of days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from rich.cells import cell_len
from rich.text import Text

BAR_WIDTH = 40


@dataclass(frozen=True)
class Bar:
    """One row of a chart: its label, the value the bar stands for, figures shown after it."""

    label: str
    value: int | Decimal
    figures: tuple[Text | str, ...] = ()


def bar_chart(
    bars: Iterable[Bar], style: str, width: int = BAR_WIDTH, headings: tuple[str, ...] = ()
) -> Text:
    """One line per bar, scaled to the largest; any non-zero value shows at least one block (a
    single failure must not look like none) and zero shows a dot. Labels are shown literally.
    `headings` name the figure columns where more than one figure would leave a reader guessing."""
    bars = list(bars)
    if not bars:
        return Text()
    label_width = max(cell_len(bar.label) for bar in bars)
    figures = [[Text(f) if isinstance(f, str) else f for f in bar.figures] for bar in bars]
    heads = [Text(h, style="bold") for h in headings]
    widths = [0] * max(len(row) for row in [heads, *figures])
    for row in [heads, *figures]:
        for column, figure in enumerate(row):
            widths[column] = max(widths[column], figure.cell_len)
    top = max(bar.value for bar in bars) or 1
    lines = [_line(" " * (label_width + width + 1), heads, widths, "")] if heads else []
    for bar, row in zip(bars, figures, strict=True):
        length = max(1, int(bar.value / top * width)) if bar.value > 0 else 0
        label = bar.label + " " * (label_width - cell_len(bar.label))
        lines.append(_line(label, row, widths, ("█" * length or "·").ljust(width), style))
    return Text("\n", no_wrap=True, overflow="crop").join(lines)


def _line(label: str, figures: list[Text], widths: list[int], bar: str, style: str = "") -> Text:
    line = Text(label)
    if bar:
        line.append(" ").append(bar, style=style)
    for figure, figure_width in zip(figures, widths, strict=False):
        line.append(" " * (figure_width - figure.cell_len + 1)).append_text(figure)
    return line
