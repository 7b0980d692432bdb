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


class Unreadable(str):
    """A stored time (or truth) that names no instant adminui can read: shown as it is and
    flagged, never guessed; JSON gives its text unchanged."""

    __slots__ = ()


UNREADABLE_MARK = "(unreadable) "  # what a table, a fact and the CLI put before its text


# The forms of a time a D1 product's text columns hold, as SQLite's own julianday() reads them
# (the vetted SQL orders by that, so a list's order and the values shown agree): a date, then
# optionally a time to the minute, second or fraction, then optionally Z or an offset.
_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?"
)
EPOCH_DIGITS = range(9, 14)  # seconds (9-11 digits) or, from 12 digits, milliseconds since 1970
EPOCH_MS_DIGITS = 12


def as_instant(value: Any) -> datetime | Unreadable | None:
    """The instant a D1 product's time names, as an aware UTC datetime: ISO 8601 with Z, an
    offset or neither (UTC), with or without fractions, 'YYYY-MM-DD HH:MM:SS', a date alone,
    or whole seconds or milliseconds since the epoch (a number or its digits). Anything else
    is Unreadable, its text unchanged."""
    if value is None or isinstance(value, datetime):
        return as_datetime(value)
    text = str(value).strip()
    if isinstance(value, int | str) and not isinstance(value, bool) and text.isdigit():
        if len(text) in EPOCH_DIGITS:
            scale = 1000 if len(text) >= EPOCH_MS_DIGITS else 1
            return datetime.fromtimestamp(int(text) / scale, UTC)
        return Unreadable(text)
    match = _INSTANT.fullmatch(text) if isinstance(value, str) else None
    if match is None:
        return Unreadable(str(value))
    *parts, fraction, zone = match.groups()
    micro = int((fraction or ".")[1:7].ljust(6, "0"))
    try:
        instant = datetime(*(int(part or 0) for part in parts), micro)
        offset = datetime.fromisoformat(f"2000-01-01T00:00{zone}").utcoffset() if zone else None
    except ValueError:  # a 30th of February, an hour 25: SQLite rolls them over, adminui doesn't
        return Unreadable(value)
    return (instant - offset if offset else instant).replace(tzinfo=UTC)


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


_TRUTHS = {"1": True, "0": False, "true": True, "false": False}


def as_bool(value: Any) -> bool | Unreadable | None:
    """A boolean from PostgreSQL's bool, SQLite's 0/1, or the text 'true'/'false' (and '1'/'0')
    some D1 writers store; other text is Unreadable, not a guess."""
    if value is None or isinstance(value, bool | int | float):
        return None if value is None else bool(value)
    truth = _TRUTHS.get(str(value).strip().lower())
    return Unreadable(str(value)) if truth is None else truth


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
