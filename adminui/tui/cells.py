"""Turning values into table cells and text that show database content literally.

Database text goes through `Text(...)`, never markup, so an error message holding `[bold]` or an
email holding `[red]` shows as typed; Rich strips terminal control codes from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from string import Formatter

from rich.text import Text

from adminui.errors import AdminError
from adminui.ops.values import UNREADABLE_MARK, Unreadable


def cell(value: object) -> Text:
    """A literal table cell; numbers right-aligned, times in UTC to the minute, None blank."""
    if value is None:
        return Text("")
    if isinstance(value, datetime):
        return Text(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, Unreadable):
        return Text.assemble((UNREADABLE_MARK, "bold"), str(value))
    if isinstance(value, int | Decimal):
        return Text(f"{value:,}", justify="right")
    return Text(str(value))


def when(value: datetime | None) -> str:
    """A time for a label: 'YYYY-MM-DD HH:MM UTC', or a dash."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def fields(template: str) -> set[str]:
    """The {fields} a manifest's template names."""
    return {field for _, field, _, _ in Formatter().parse(template) if field}


def fact(template: str, values: Mapping[str, object]) -> str:
    """A manifest's template ('{credits:,} of {total:,}') filled from a record: each field as
    its format spec says (a value it doesn't fit, as it is), a time as `when` gives it, a truth
    as yes or no, nothing (None or '') as a dash."""
    parts = []
    for literal, field, spec, _ in Formatter().parse(template):
        parts.append(literal)
        if field is not None:
            value = values.get(field)
            if value is None or value == "":
                parts.append("—")
            elif isinstance(value, datetime):
                parts.append(when(value))
            elif isinstance(value, bool):
                parts.append("yes" if value else "no")
            elif isinstance(value, Unreadable):
                parts.append(f"{UNREADABLE_MARK}{value}")
            else:
                try:
                    parts.append(format(value, spec or ""))
                except (TypeError, ValueError):  # text where a number was meant: shown as it is
                    parts.append(str(value))
    return "".join(parts)


def failure(error: Exception) -> str:
    """One sentence for the operator: an AdminError says its own; anything else is named."""
    if isinstance(error, AdminError):
        return str(error)
    return f"Unexpected {type(error).__name__}: {error}. Nothing was changed; try again."
