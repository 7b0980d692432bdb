"""A product's money checks, as its manifest lists them ([[health]]): OmniChat's ledger health
(balances that disagree with the ledger's last balance_after; chain breaks), filepath's budgets
(API keys over their cap; disabled or expired keys holding credit). Each is a vetted statement
whose rows are what it finds, figures side by side, and how many it finds in all; they run in
one read transaction, so they see one state of the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops.records import Record, records
from adminui.packs import Check

LIMIT = 100


@dataclass(frozen=True)
class Finding:
    """One check's rows (at most the limit) and how many it found in all."""

    check: Check
    rows: tuple[Record, ...]
    found: int


def ledger_health(
    db: Database, limit: int = LIMIT, now: datetime | None = None, only: str | None = None
) -> tuple[Finding, ...]:
    """The product's checks in the manifest's order (`only`: the one of that name); one that
    asks for :now (a key expired by now) is given the app's clock, else the time now."""
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    values = {"limit": limit, "now": now or datetime.now(UTC)}
    with db.read() as tx:
        found = []
        for check in db.pack.health:
            if only is not None and check.name != only:
                continue
            rows = records(
                db.pack, tx.rows(check.statement, **tx.declared(check.statement, **values))
            )
            found.append(Finding(check, rows, int(rows[0]["found"]) if rows else 0))
    return tuple(found)
