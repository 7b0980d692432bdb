"""A product's credit ledger (fltr's credit_transactions), for support and the operator: its rows
newest first, filtered by type, operation, user and time, keyset-paged (a page at any depth is
an index range, never an OFFSET); usage by operation and by month; and the balance check, the
users whose balance is not the sum of their ledger: the ledger's own health, since a balance
changed by hand, or a grant that wrote only one of its two rows, shows there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops.records import Record, records
from adminui.ops.users import resolve_user

PAGE = 100
# The ledger's transaction types (seed 004), for a filter to offer.
TYPES = ("purchase", "usage", "refund", "bonus")
# What each read returns, in the order the CLI prints and the screen shows it.
LIST_COLUMNS = ("created_at", "email", "type", "operation", "amount", "team_id", "id", "user_id")
CHECK_COLUMNS = ("user_id", "email", "credits", "ledger_sum", "difference")
OPERATION_COLUMNS = ("operation", "transactions", "users", "credits_used")
MONTH_COLUMNS = ("month", "purchased", "bonus", "used", "refunded", "transactions")


@dataclass(frozen=True)
class LedgerPage:
    """Ledger rows newest first; `after` starts the next page (None: no more)."""

    rows: tuple[Record, ...]
    after: tuple[datetime, int] | None


@dataclass(frozen=True)
class BalanceCheck:
    """The users whose balance is not their ledger's sum (at most `limit` of `unbalanced`)."""

    rows: tuple[Record, ...]
    unbalanced: int
    balances: int


@dataclass(frozen=True)
class Usage:
    by_operation: tuple[Record, ...]
    by_month: tuple[Record, ...]


def _limit(limit: int) -> int:
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    return limit


def page(
    db: Database,
    *,
    kind: str | None = None,
    operation: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE,
) -> LedgerPage:
    """One page of the ledger; `kind` is a transaction type (purchase, usage, ...), `user` an
    email or id (resolved as the lookup resolves it)."""
    filters: dict[str, Any] = {
        "type": kind,
        "operation": operation,
        "user_id": resolve_user(db, user) if user else None,
        "since": since,
        "until": until,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
    }
    rows = records(db.pack, db.replica.rows("ledger_page", **filters, limit=_limit(limit)))
    last = rows[-1] if len(rows) == limit else None
    return LedgerPage(rows, (last.created_at, last.id) if last else None)


def balance_check(db: Database, limit: int = PAGE) -> BalanceCheck:
    """The balance check, its count and its rows read in one transaction."""
    (counted,), found = db.replica.read_many(
        [("ledger_unbalanced_count", {}), ("ledger_unbalanced", {"limit": _limit(limit)})]
    )  # an aggregate always returns its one row
    rows = records(db.pack, found)
    return BalanceCheck(rows, int(counted["unbalanced"]), int(counted["balances"]))


def usage(db: Database, since: datetime | None = None) -> Usage:
    """Usage by operation and the ledger by month, in one transaction."""
    by_operation, by_month = db.replica.read_many(
        [("ledger_usage_by_operation", {"since": since}), ("ledger_by_month", {"since": since})]
    )
    return Usage(records(db.pack, by_operation), records(db.pack, by_month))
