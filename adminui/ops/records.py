"""Rows of any pack as the layers above see them: a read-only mapping, its columns in the order
the statement returns them, each also an attribute (`row.email`), with the same Python values on
both dialects.

Which column holds what comes from the pack's reference DDL (the type most of its tables give a
column name: `created_at` a timestamp, `amount_usd` numeric) and, for what a statement computes
(`has_usage_tracking`), from the manifest's [values]. SQLite needs it: it hands back timestamps
as text, booleans as 0/1 and money as floats. PostgreSQL's typed values are turned by their
type (a UUID to its canonical text), so a text key is never lower-cased: 'usr_Twin' stays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any
from uuid import UUID

from adminui.ops.values import (
    as_bool,
    as_cents,
    as_datetime,
    as_id,
    as_instant,
    as_money,
    first_line,
    whole,
)
from adminui.packs import Pack
from adminui.schema import reference_tables

CONVERT = {
    "uuid": as_id,
    "timestamp": as_datetime,
    "timestamptz": as_datetime,
    "instant": as_instant,  # a D1 product's text time, in whichever form it was written
    "boolean": as_bool,
    "numeric": as_money,
    "cents": as_cents,  # whole cents, shown and exported as exact money
    "first line": first_line,
    "integer": whole,
    "bigint": whole,
}


class Record(Mapping[str, Any]):
    """One row: `row["email"]` and `row.email` alike."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a record is read-only ({name})")

    def __repr__(self) -> str:
        return f"Record({self._values!r})"

    def plain(self) -> dict[str, Any]:
        """As plain dicts and lists all the way down (what JSON output and tables take)."""
        return {
            key: [r.plain() for r in value] if _records(value) else value
            for key, value in self._values.items()
        }


def _records(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, Record) for v in value)


@cache
def kinds(pack: Pack) -> dict[str, str]:
    """Column name -> what it holds, where the pack says so: its manifest's [values], else the
    type the reference DDL gives most columns of that name (`created_at` is a timestamp in every
    fltr table but Drizzle's migration log); a tie says nothing."""
    seen: dict[str, Counter[str]] = {}
    for table in reference_tables(pack).values():
        for column in table.columns:
            seen.setdefault(column.name, Counter())[column.cast] += 1
    found = {}
    for name, types in seen.items():
        ranked = types.most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            found[name] = ranked[0][0]
    return found | dict(pack.values)


def record(pack: Pack, row: Mapping[str, Any]) -> Record:
    """A driver row as a Record of `pack`'s values."""
    known = kinds(pack)
    return Record({key: _value(value, known.get(key)) for key, value in row.items()})


def records(pack: Pack, rows: Iterable[Mapping[str, Any]]) -> tuple[Record, ...]:
    return tuple(record(pack, row) for row in rows)


def _value(value: Any, kind: str | None) -> Any:
    if isinstance(value, UUID):
        return as_id(value)
    convert = CONVERT.get(kind or "")
    if convert is None or (value is None and convert is not first_line):
        return value
    return convert(value)
