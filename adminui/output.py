"""Printing results for the CLI: tables with tabulate, CSV, or JSON, from plain dicts.

tabulate is imported when a table is printed (it costs ~40 ms of the app's start-up otherwise).
JSON keeps types exact: times are ISO 8601 strings, money is a string with two places (a JSON
number would become a float in most readers), missing values are null.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from adminui.ops.values import UNREADABLE_MARK, Unreadable

FORMATS = ("table", "csv", "json")
# Terminal control characters in database text are shown escaped, so a stored value can't move
# the cursor or recolour the operator's terminal.
_CONTROL = {i: f"\\x{i:02x}" for i in (*range(32), *range(127, 160))} | {
    10: "\\n",
    9: "\\t",
    13: "\\r",
}
# What a terminal acts on instead of showing: C0 controls but newline and tab (CR too: it moves
# back over the line), DEL and C1; lone surrogates (undecodable bytes), which can't be written at
# all; and the invisible characters that reorder or hide text, so that a preview can't show one
# thing and mean another (bidi embeddings, overrides and isolates, marks, zero-width ones).
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
    r"\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def json_value(value: Any) -> Any:
    """A value as JSON should carry it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    return value


def text_value(value: Any) -> str:
    """A value as a table cell or CSV field shows it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Unreadable):
        return f"{UNREADABLE_MARK}{value}".translate(_CONTROL)
    if _is_number(value):  # money and counts with thousands separators, as the screens show
        return f"{value:,}"
    return str(value).translate(_CONTROL)


def terminal_text(text: str) -> str:
    """`text` with what a terminal would act on shown escaped, as text_value shows it."""
    return _UNSAFE.sub(lambda m: _CONTROL.get(ord(m[0])) or f"\\u{ord(m[0]):04x}", text)


class EscapedStream:
    """A text stream over `raw` that writes everything through terminal_text; the rest of the
    stream (flush, isatty, fileno, close, ...) is raw's own."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(terminal_text(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


@contextmanager
def escaped_output() -> Iterator[None]:
    """Meanwhile, stdout and stderr escape what a terminal would act on: the CLI's one choke
    point for database text on its way to the operator's screen (tables, CSV, step logs, the
    `adminui: ...` lines). Also a decorator. JSON is escaped by json.dumps already."""
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapedStream(real[0]), EscapedStream(real[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = real


@contextmanager
def raw_output() -> Iterator[None]:
    """Meanwhile, the streams escaped_output wrapped are the real ones again: for the TUI, which
    draws with escape sequences (Rich prints its coloured crash report to sys.stderr too)."""
    wrapped = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (s.raw if isinstance(s, EscapedStream) else s for s in wrapped)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = wrapped


def render_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """Many rows in the chosen format; `columns` picks and orders the keys shown."""
    if fmt == "json":
        return json.dumps([json_value({c: row[c] for c in columns}) for row in rows], indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row[c]) for c in columns])
        return buffer.getvalue().rstrip("\n")
    from tabulate import tabulate

    table = [[text_value(row[c]) for c in columns] for row in rows]
    headers = [LABELS.get(c, c) for c in columns]
    numeric = [
        all(_is_number(row[c]) for row in rows if row[c] is not None) and bool(rows)
        for c in columns
    ]
    return tabulate(
        table,
        headers=headers,
        tablefmt="simple",
        disable_numparse=True,
        colalign=["right" if n else "left" for n in numeric],
        maxcolwidths=_fitted(headers, table),
    )


# Short table headings for the product's long column names (CSV and JSON keep the names).
LABELS = {
    "free_expansions_remaining": "free",
    "paid_credits_remaining": "paid",
    "credits_purchased": "credits",
    "created_at": "created",
}
_table_width: int | None = None
_GAP = 2  # tabulate's "simple" format puts two spaces between columns
_NARROWEST = 8  # a column is never cut below this many characters


def fit_tables(width: int | None) -> None:
    """Make tables fit `width` columns (the terminal's), wrapping the widest cells; None: as
    wide as their content (`--wide`, or output that is not a terminal)."""
    global _table_width
    _table_width = width


def _fitted(headers: Sequence[str], table: Sequence[Sequence[str]]) -> list[int | None] | None:
    """Per column, the width to wrap its cells at, so that the table fits; None: it fits."""
    if _table_width is None:
        return None
    # tabulate pads a heading by 2 (its MIN_PADDING): a column is at least that wide.
    least = [len(h) + _GAP for h in headers]
    widths = [max([least[i], *(len(r[i]) for r in table)]) for i in range(len(headers))]
    room = _table_width - _GAP * (len(widths) - 1)
    fitted = list(widths)
    while sum(fitted) > room:  # the widest column gives up a character, again and again
        cuttable = [i for i in range(len(fitted)) if fitted[i] > max(_NARROWEST, least[i])]
        if not cuttable:
            break
        fitted[max(cuttable, key=lambda i: fitted[i])] -= 1
    return [w if w < widths[i] else None for i, w in enumerate(fitted)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def write_rows(
    handle: TextIO, pages: Iterable[Sequence[Mapping[str, Any]]], columns: Sequence[str], fmt: str
) -> int:
    """Stream pages of rows to a file as CSV or a JSON array, so an export of a large list never
    holds it all; the number of rows written."""
    count = 0
    writer = csv.writer(handle, lineterminator="\n")
    if fmt == "csv":
        writer.writerow(columns)
    else:
        handle.write("[")
    for page in pages:
        for row in page:
            if fmt == "csv":
                writer.writerow([_csv_value(row[c]) for c in columns])
            else:
                handle.write(",\n" if count else "\n")
                handle.write(json.dumps(json_value({c: row[c] for c in columns})))
            count += 1
    if fmt != "csv":
        handle.write("\n]\n")
    return count


def render_record(record: Mapping[str, Any], fmt: str) -> str:
    """One object: JSON object, a one-row CSV, or a two-column table of its scalar fields."""
    if fmt == "json":
        return json.dumps(json_value(record), indent=2)
    scalars = {k: v for k, v in record.items() if not isinstance(v, list | tuple)}
    if fmt == "csv":
        return render_rows([scalars], list(scalars), "csv")
    from tabulate import tabulate

    return tabulate(
        [[key, text_value(value)] for key, value in scalars.items()],
        tablefmt="plain",
        disable_numparse=True,
    )


def _csv_value(value: Any) -> str:
    """CSV keeps text as stored (its quoting carries newlines); times in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
