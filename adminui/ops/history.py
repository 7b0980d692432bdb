"""A product's processing history, for on-call (fltr: processing jobs by status, documents in a
failed state): the pack's manifest names a summary statement and lists, all on one of its
databases; each list is newest first, keyset-paged by (created_at, id), so a page at any depth is
an index range and a screen can page through every row with flat memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adminui.db import Database
from adminui.errors import InputError, SetupError
from adminui.ops.records import Record, records
from adminui.packs import HistoryList

PAGE = 100


@dataclass(frozen=True)
class HistoryPage:
    """Rows newest first; `after` starts the next page (None: no more)."""

    rows: tuple[Record, ...]
    after: tuple[datetime, Any] | None


def _database(db: Database) -> Database:
    history = db.pack.processing
    if not history.lists:
        raise SetupError(f"{db.pack.title} has no processing history.")
    return db.on(history.database, "The processing history").replica  # lists: the replica


def get_list(db: Database, name: str) -> HistoryList:
    """One of the product's history lists, by name."""
    lists = {listing.name: listing for listing in db.pack.processing.lists}
    if name not in lists:
        raise InputError("list", f"is one of {', '.join(lists)}, not {name[:40]!r}")
    return lists[name]


def summary(db: Database) -> tuple[Record, ...]:
    """The summary statement's rows (fltr: jobs and documents by status, oldest and newest)."""
    target = _database(db)
    return records(db.pack, target.rows(db.pack.processing.summary))


def page(
    db: Database,
    listing: HistoryList,
    choice: str | None = None,
    *,
    after: tuple[datetime, Any] | None = None,
    limit: int = PAGE,
) -> HistoryPage:
    """One page of a list, of one `choice` of its filter when given."""
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    params: dict[str, Any] = {
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
        "limit": limit,
    }
    if listing.filter:
        if choice is not None and choice not in listing.choices:
            raise InputError(
                listing.filter, f"is one of {', '.join(listing.choices)}, not {choice[:40]!r}"
            )
        params[listing.filter] = choice
    rows = records(db.pack, _database(db).rows(listing.statement, **params))
    last = rows[-1] if len(rows) == limit else None
    return HistoryPage(rows, (last.created_at, last.id) if last else None)
