"""A ledger's health, for a product whose ledger keeps the balance after each row (OmniChat's
battery_transactions.balance_after): the checks its manifest lists ([[health]]), each a vetted
statement whose rows are what it finds, figures side by side, and how many it finds in all.
They run in one read transaction, so the checks see one state of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def ledger_health(db: Database, limit: int = LIMIT) -> tuple[Finding, ...]:
    """Every health check of the product's ledger, in the manifest's order."""
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    with db.read() as tx:
        found = []
        for check in db.pack.health:
            rows = records(db.pack, tx.rows(check.statement, limit=limit))
            found.append(Finding(check, rows, int(rows[0]["found"]) if rows else 0))
    return tuple(found)
