"""Time windows typed by the operator: `--since 24h`, `7d`, `12m`, or an ISO date or time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from adminui.errors import InputError

_RELATIVE = re.compile(r"^(\d{1,4})([hdwm])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def months_before(moment: datetime, months: int) -> datetime:
    """The start of the calendar month `months` before `moment`'s month (UTC)."""
    index = moment.year * 12 + moment.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def parse_since(text: str, now: datetime | None = None, field: str = "--since") -> datetime:
    """The moment a window starts: '24h', '7d', '2w', '12m' (calendar months, from the start of
    a month) or an ISO date/time (UTC unless it says otherwise). Never in the future."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if match := _RELATIVE.match(value):
        count, unit = int(match[1]), match[2]
        start = months_before(now, count) if unit == "m" else now - count * _UNITS[unit]
    else:
        try:
            start = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InputError(
                field,
                f"{text[:40]!r} is not a window: use 24h, 7d, 2w, 12m or a date like 2026-01-31",
            ) from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    if start > now:
        raise InputError(field, f"{start:%Y-%m-%d %H:%M} UTC is in the future")
    return start
