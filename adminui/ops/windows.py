"""Time windows typed by the operator: `--since 24h`, `7d`, `12m`, or an ISO date or time, and
the from-to windows the execution history is read through (with the chart buckets they imply)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adminui.errors import InputError

_RELATIVE = re.compile(r"^(\d{1,4})([hdwm])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# Up to two days an hour is the unit on-call thinks in; beyond that a day (the rule).
HOURLY_UP_TO = timedelta(hours=48)


def months_before(moment: datetime, months: int) -> datetime:
    """The start of the calendar month `months` before `moment`'s month (UTC)."""
    index = moment.year * 12 + moment.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _moment(text: str, now: datetime, field: str) -> datetime:
    value = text.strip().lower()
    if match := _RELATIVE.match(value):
        count, unit = int(match[1]), match[2]
        return months_before(now, count) if unit == "m" else now - count * _UNITS[unit]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            field,
            f"{text[:40]!r} is not a window: use 24h, 7d, 2w, 12m or a date like 2026-01-31",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_since(text: str, now: datetime | None = None, field: str = "--since") -> datetime:
    """The moment a window starts: '24h', '7d', '2w', '12m' (calendar months, from the start of
    a month) or an ISO date/time (UTC unless it says otherwise). Never in the future."""
    now = now or datetime.now(UTC)
    start = _moment(text, now, field)
    if start > now:
        raise InputError(field, f"{start:%Y-%m-%d %H:%M} UTC is in the future")
    return start


@dataclass(frozen=True)
class Window:
    """[since, until) in UTC; None on either side means open (all time, up to now)."""

    since: datetime | None = None
    until: datetime | None = None

    def bucket(self, now: datetime | None = None) -> str:
        """'hour' for windows of at most 48 hours, else 'day' (an open start is long)."""
        if self.since is None:
            return "day"
        now = now or datetime.now(UTC)
        end = min(self.until, now) if self.until else now
        return "hour" if end - self.since <= HOURLY_UP_TO else "day"

    def describe(self) -> str:
        """The window in words, for a status line."""
        start = f"{self.since:%Y-%m-%d %H:%M}" if self.since else "the first run"
        end = f"{self.until:%Y-%m-%d %H:%M}" if self.until else "now"
        return f"{start} → {end} UTC"


def parse_window(
    since: str,
    until: str = "",
    now: datetime | None = None,
    fields: tuple[str, str] = ("--since", "--until"),
) -> Window:
    """A window from its two ends as typed: a start as `parse_since` reads it ('' or 'all': all
    time) and an optional end in the same forms. A start in the future, or an end not after the
    start, is refused by field name; an end in the future just means 'up to now'."""
    now = now or datetime.now(UTC)
    start = None if since.strip().lower() in ("", "all") else parse_since(since, now, fields[0])
    end = _moment(until, now, fields[1]) if until.strip() else None
    if start and end and end <= start:
        raise InputError(fields[1], f"must be after {fields[0]} ({start:%Y-%m-%d %H:%M} UTC)")
    return Window(start, end)
