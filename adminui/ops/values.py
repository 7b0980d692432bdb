"""Turning driver values into Python values the same way on both dialects.

PostgreSQL hands back datetimes, Decimals, UUIDs and booleans; the SQLite schema stores the same
things as UTC text, NUMERIC, text and 0/1. Ops convert every column through these helpers so a
screen never sees which database it came from.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adminui.errors import InputError
from adminui.fold import fold

CENT = Decimal("0.01")
MAX_SEARCH = 1000  # characters of search text


def as_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from a timestamptz or SQLite UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_money(value: Any) -> Decimal | None:
    """Exact dollars and cents; SQLite's NUMERIC may hand back an int or a float."""
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float: 0.1 -> "0.1"
    return Decimal(value).quantize(CENT)


def as_id(value: Any) -> str:
    """A UUID as its canonical lower-case text."""
    return str(value).lower()


def as_bool(value: Any) -> bool | None:
    """A boolean from PostgreSQL's bool or SQLite's 0/1."""
    return None if value is None else bool(value)


def whole(value: Any) -> Any:
    """A whole number as an int (SQLite may hand back 5.0 or '5' from an INTEGER column); any
    other value as it is, never rounded or cut: 2.5 stays 2.5, 'n/a' stays 'n/a'."""
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,19}", value.strip()):
        return int(value)
    return value


def first_line(text: str | None, width: int = 120) -> str:
    """The first non-blank line of a (possibly long, multi-line) message, cut to width."""
    if not text:
        return ""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def like_pattern(text: str) -> str:
    """A lower-cased 'contains' LIKE pattern with the user's % _ and \\ taken literally.
    Longer text than MAX_SEARCH is refused (SQLite refuses LIKE patterns over 50,000 bytes,
    and no email, name or reference is that long)."""
    if len(text) > MAX_SEARCH:
        raise InputError("search", f"at most {MAX_SEARCH:,} characters")
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '2 rows', '1,000 rows': a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
