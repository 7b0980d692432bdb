"""Turning driver values into Python values the same way on both dialects.

PostgreSQL hands back datetimes, Decimals, UUIDs and booleans; the SQLite schema stores the same
things as UTC text, NUMERIC, text and 0/1. Ops convert every column through these helpers so a
screen never sees which database it came from.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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


# A D1 product's time, as SQLite's own date functions read it (the vetted SQL orders by
# julianday(), so what a list shows and the order it is in agree; sqlite's date.c): a date
# YYYY-MM-DD, then any spaces or Ts, then optionally HH:MM[:SS[.fraction]], spaces, a zone (Z, z
# or +-HH:MM up to 14 hours) and spaces. A day past its month's end or hour 24 rolls over, as
# SQLite rolls it.
_SPACE = " \t\n\v\f\r"
_INSTANT = re.compile(
    rf"([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}})[{_SPACE}T]*"
    rf"(?:([0-9]{{2}}):([0-9]{{2}})(?::([0-9]{{2}})(\.[0-9]+)?)?[{_SPACE}]*"
    rf"(?:[Zz]|([+-])([0-9]{{2}}):([0-9]{{2}}))?[{_SPACE}]*)?"
)
_EPOCH = re.compile(r"[0-9]{9,13}")  # seconds (9-11 digits) or, from 12 digits, milliseconds
EPOCH_MS_DIGITS = 12
# Each field's range as SQLite's parser checks it: month, day, hour, minute, second, zone.
_LIMITS = ((1, 12), (1, 31), (0, 24), (0, 59), (0, 59))


def as_instant(value: Any) -> datetime | Unreadable | None:
    """The instant a D1 product's time names, as an aware UTC datetime: ISO 8601 with Z, an
    offset or neither (UTC), with or without fractions, 'YYYY-MM-DD HH:MM:SS', a date alone,
    or whole seconds or milliseconds since the epoch (a number or its digits). Anything SQLite's
    julianday() can't read either is Unreadable, its text unchanged (a year 0, which SQLite
    reads and Python can't hold, too)."""
    if value is None or isinstance(value, datetime):
        return as_datetime(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return Unreadable(str(value))
    text = str(value)
    try:
        if _EPOCH.fullmatch(text):
            scale = 1000 if len(text) >= EPOCH_MS_DIGITS else 1
            return datetime.fromtimestamp(int(text) / scale, UTC)
        return _sqlite_time(text)
    except (ValueError, OverflowError):  # past what a datetime holds
        return Unreadable(text)


def _sqlite_time(text: str) -> datetime | Unreadable:
    match = _INSTANT.fullmatch(text)
    if match is None:
        return Unreadable(text)
    year, *parts, fraction, sign, zone_hours, zone_minutes = match.groups()
    fields = [int(part or 0) for part in parts]
    if not all(low <= f <= high for f, (low, high) in zip(fields, _LIMITS, strict=True)):
        return Unreadable(text)
    if zone_hours is not None and (int(zone_hours) > 14 or int(zone_minutes) > 59):
        return Unreadable(text)
    month, day, hour, minute, second = fields
    instant = datetime(int(year), month, 1, tzinfo=UTC) + timedelta(
        days=day - 1,
        hours=hour,
        minutes=minute,
        seconds=second,
        microseconds=int((fraction or ".")[1:7].ljust(6, "0")),
    )
    if sign:
        offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
        instant = instant - offset if sign == "+" else instant + offset
    return instant


def as_money(value: Any) -> Decimal | None:
    """Exact dollars and cents; SQLite's NUMERIC may hand back an int or a float."""
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float: 0.1 -> "0.1"
    return Decimal(value).quantize(CENT)


def as_cents(value: Any) -> Any:
    """Whole cents (a plan's price) as exact money, 499 -> Decimal('4.99'); anything else as it
    is, never rounded."""
    cents = whole(value)
    return Decimal(cents).scaleb(-2) if type(cents) is int else cents


def as_id(value: Any) -> str:
    """A UUID as its canonical lower-case text."""
    return str(value).lower()


_TRUTHS = {"1": True, "0": False, "true": True, "false": False}


def as_bool(value: Any) -> bool | Unreadable | None:
    """A boolean from PostgreSQL's bool, SQLite's 0/1, or the text 'true'/'false' (and '1'/'0')
    some D1 writers store; other text is Unreadable, not a guess."""
    if value is None or isinstance(value, bool | int | float):
        return None if value is None else bool(value)
    truth = _TRUTHS.get(str(value).strip().lower())  # ASCII words only: no other text matches
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


def signed(value: Any) -> str:
    """A change of a balance as the operator reads it (+1,234, -50); one that is not a whole
    number (SQLite keeps text or NULL in an INTEGER column) is shown as stored, never made one."""
    if type(value) is int:
        return f"{value:+,}"
    return "NULL" if value is None else repr(value)


def first_line(text: str | None, width: int = 120) -> str:
    """The first non-blank line of a (possibly long, multi-line) message, cut to width."""
    if not text:
        return ""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def like_pattern(text: str, *, folded: bool = True) -> str:
    """A lower-cased 'contains' LIKE pattern with the user's % _ and \\ taken literally (not
    `folded`: as typed, for SQL whose LIKE itself ignores ASCII case and no other, as D1's).
    Longer text than MAX_SEARCH is refused (SQLite refuses LIKE patterns over 50,000 bytes,
    and no email, name or reference is that long)."""
    if len(text) > MAX_SEARCH:
        raise InputError("search", f"at most {MAX_SEARCH:,} characters")
    escaped = (
        (fold(text) if folded else text)
        .replace("\\", "\\\\")
        .replace("%", "\\%")
        .replace("_", "\\_")
    )
    return f"%{escaped}%"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 row', '2 rows', '1,000 rows': a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
