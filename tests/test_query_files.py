"""Every vetted statement runs on both dialects, with parameters like the app's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from adminui.db import Database
from adminui.ops import orphans
from adminui.ops.windows import months_before
from adminui.queries import Registry
from bench.params import CATALOG
from tests.conftest import execute, raw_engine, scalar
from tests.orphan_rows import change, plant

NOW = datetime(2026, 6, 2, 9, 30, tzinfo=UTC)


def _any(db: Database, sql: str) -> str:
    value = scalar(db, sql)
    assert value is not None, sql
    return str(value)


def _user(db: Database) -> str:
    return _any(db, "SELECT user_id FROM payment_receipts ORDER BY created_at LIMIT 1")


def _new_id() -> str:
    return str(uuid.uuid4())


# Each statement's example parameters, built from the fixture data of the database at hand.
EXAMPLES: dict[str, Callable[[Database], dict[str, Any]]] = {
    "connection_search_path": lambda db: {},
    "transaction_settings": lambda db: {"schema": "public", "ms": "5000", "plans": None},
    "transaction_id": lambda db: {},
    "write_privileges": lambda db: db.pack.writes,
    "transaction_status": lambda db: {
        "xid": _any(db, "SELECT CAST(pg_current_xact_id() AS text)")
        if db.dialect == "postgresql"
        else "1"
    },
    "recent_users": lambda db: {"limit": 5},
    "find_users": lambda db: {"pattern": "%a%", "id_low": None, "id_high": None, "limit": 5},
    "user_ids_by_email": lambda db: {"email": _any(db, "SELECT email FROM users LIMIT 1")},
    "user_ids_by_email_ci": lambda db: {
        "email": _any(db, "SELECT upper(email) FROM users LIMIT 1")
    },
    "get_user": lambda db: {"user_id": _user(db)},
    "user_content_counts": lambda db: {"user_id": _user(db)},
    "user_execution_summary": lambda db: {"user_id": _user(db)},
    "user_recent_executions": lambda db: {
        "user_id": _any(db, "SELECT user_id FROM executions LIMIT 1"),
        "limit": 10,
    },
    "user_receipts": lambda db: {"user_id": _user(db)},
    "user_credentials": lambda db: {"user_id": _any(db, "SELECT user_id FROM credentials LIMIT 1")},
    "insert_user": lambda db: {
        "id": _new_id(),
        "email": "new.person@example.com",
        "name": "New Person",
        "timezone": "UTC",
        "created_at": NOW,
    },
    "set_usage": lambda db: {
        "user_id": _user(db),
        "free": 1,
        "paid": 2,
        "used": 3,
        "free_used": 4,
        "paid_used": 0,
    },
    "delete_usage": lambda db: {"user_id": _user(db)},
    "insert_idea": lambda db: {
        "id": _new_id(),
        "user_id": _user(db),
        "title": "An idea",
        "description": None,
        "status": "pending",
        "priority_score": 50,
        "created_at": NOW,
    },
    "insert_execution": lambda db: {
        "id": _new_id(),
        "user_id": _user(db),
        "selected_idea_id": None,
        "judge_score": 70,
        "format_chosen": "image",
        "status": "failed",
        "error_message": "boom\nat line 1",
        "error_step": "generation",
        "tokens_used": 10,
        "duration_seconds": 3,
        "started_at": NOW,
        "completed_at": NOW,
    },
    "insert_output": lambda db: {
        "id": _new_id(),
        "execution_id": _any(db, "SELECT id FROM executions LIMIT 1"),
        "user_id": _user(db),
        "idea_id": None,
        "format": "image",
        "content": '{"k": 1}',
        "published": False,
        "publication_url": None,
        "created_at": NOW,
    },
    "insert_blog_post": lambda db: {
        "id": _new_id(),
        "output_id": None,
        "user_id": _user(db),
        "title": "T",
        "slug": "a-new-slug",
        "markdown_content": "# T",
        "html_content": "<h1>T</h1>",
        "created_at": NOW,
    },
    "insert_credential": lambda db: {
        "id": _new_id(),
        "user_id": _any(
            db, "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM credentials) LIMIT 1"
        ),
        "provider": "github",
        "encrypted_value": "placeholder",
        "is_active": True,
        "validation_status": "valid",
        "created_at": NOW,
    },
    "insert_receipt": lambda db: {
        "id": _new_id(),
        "user_id": _user(db),
        "amount_usd": Decimal("0.10"),
        "credits_purchased": 1,
        "bmc_reference": "BMC-T1",
        "notes": None,
        "verified_by": "tester",
        "status": "verified",
        "created_at": NOW,
        "verified_at": NOW,
    },
    "payments_by_status": lambda db: {"since": None},
    "payments_by_month": lambda db: {
        "months": [months_before(datetime.now(UTC), back) for back in range(23, -1, -1)]
    },
    "payments_by_user": lambda db: {"since": None, "limit": 10},
    "list_payments": lambda db: {
        "status": "verified",
        "since": datetime(2024, 1, 1, tzinfo=UTC),
        "until": None,
        "pattern": "%bmc%",
        "after_created": NOW,
        "after_id": "ffffffff-ffff-4fff-bfff-ffffffffffff",
        "limit": 5,
    },
    "list_executions": lambda db: {
        "status": "failed",
        "step": None,
        "email": None,
        "since": None,
        "until": None,
        "after_started": NOW,
        "after_id": "ffffffff-ffff-4fff-bfff-ffffffffffff",
        "limit": 5,
    },
    "failure_summary": lambda db: {"since": None, "until": None},
    "failures_by_bucket": lambda db: {
        "unit": "hour",
        "since": datetime(2024, 1, 1, tzinfo=UTC),
        "until": NOW,
    },
    "count_newer_executions": lambda db: {
        "status": None,
        "step": None,
        "email": None,
        "since": None,
        "until": None,
        "top_started": datetime(2024, 1, 1, tzinfo=UTC),
        "top_id": "00000000-0000-4000-8000-000000000000",
        "limit": 10,
    },
    "stuck_executions": lambda db: {"before": NOW},
    "get_execution": lambda db: {"execution_id": _any(db, "SELECT id FROM executions LIMIT 1")},
    "execution_outputs": lambda db: {
        "execution_id": _any(db, "SELECT execution_id FROM outputs LIMIT 1")
    },
    "lock_reference": lambda db: {"reference": "bmc-100007"},
    "receipts_by_reference": lambda db: {
        "reference": _any(db, "SELECT lower(trim(bmc_reference)) FROM payment_receipts LIMIT 1")
    },
    "lock_usage": lambda db: {"user_id": _any(db, "SELECT user_id FROM usage_tracking LIMIT 1")},
    "create_usage": lambda db: {
        "user_id": _any(
            db, "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM usage_tracking) LIMIT 1"
        )
    },
    "insert_verified_receipt": lambda db: {
        "user_id": _user(db),
        "amount_usd": Decimal("5.00"),
        "credits": 5,
        "reference": "BMC-N",
        "notes": None,
        "verified_by": "tester",
        "now": NOW,
    },
    "add_paid_credits": lambda db: {
        "user_id": _any(db, "SELECT user_id FROM usage_tracking LIMIT 1"),
        "credits": 3,
    },
    "take_paid_credits": lambda db: {
        "user_id": _any(
            db, "SELECT user_id FROM usage_tracking WHERE paid_credits_remaining > 0 LIMIT 1"
        ),
        "credits": 1,
    },
    "get_receipt": lambda db: {"receipt_id": _any(db, "SELECT id FROM payment_receipts LIMIT 1")},
    "lock_receipt": lambda db: {"receipt_id": _any(db, "SELECT id FROM payment_receipts LIMIT 1")},
    "pending_receipts": lambda db: {"limit": 10},
    "mark_receipt_verified": lambda db: {
        "receipt_id": _any(db, "SELECT id FROM payment_receipts WHERE status = 'pending' LIMIT 1"),
        "verified_by": "tester",
        "now": NOW,
        "notes": None,
    },
    "mark_receipt_refunded": lambda db: {
        "receipt_id": _any(db, "SELECT id FROM payment_receipts WHERE status = 'verified' LIMIT 1"),
        "from_status": "verified",
        "notes": "refunded in a test",
    },
}


def _deleted_row(db: Database, table: str, name: str) -> dict[str, Any]:
    """A row deleted behind the app's back, as a backup would hold it: ready to go back in.
    (Its parent exists, so SQLite's enforced foreign keys let it back.)"""
    columns = ", ".join(sorted(db.statement(name).params))
    engine = raw_engine(db)
    with engine.begin() as conn:
        row = dict(conn.execute(text(f"SELECT {columns} FROM {table} LIMIT 1")).mappings().one())
        conn.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row["id"]})
    engine.dispose()
    return {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}


def _nulled(db: Database, check: orphans.Check) -> dict[str, Any]:
    """A row whose reference was set to NULL, and an existing parent to point it at again."""
    row_id = plant(db, check.name)[0]
    change(db, f"UPDATE {check.table} SET {check.column} = NULL WHERE id = :id", id=row_id)
    return {"id": row_id, check.column: _any(db, f"SELECT id FROM {check.parent} LIMIT 1")}


def _orphan_examples() -> dict[str, Callable[[Database], dict[str, Any]]]:
    """The orphan checks' statements: each acts on one planted orphan."""
    examples: dict[str, Callable[[Database], dict[str, Any]]] = {
        "live_tables": lambda db: {},
        "live_foreign_keys": lambda db: {},
        "live_indexes": lambda db: {},
    }
    for check in orphans.checks():
        examples[check.statement("count")] = lambda db: {}
        examples[check.statement("preview")] = lambda db, c=check: {
            "after": plant(db, c.name) and "00000000-0000-0000-0000-000000000000",
            "limit": 10,
        }
        examples[check.statement("clean")] = lambda db, c=check: {"ids": plant(db, c.name)}
        if check.action == "nullify":
            examples[check.statement("relink")] = lambda db, c=check: _nulled(db, c)
        elif check.restorable:
            name = f"orphans_reinsert_{check.table}"
            examples[name] = lambda db, t=check.table, n=name: _deleted_row(db, t, n)
    for relation in orphans.relations():
        # The first row (by id) that points somewhere: its id, or what it points at.
        pointing = (
            f"SELECT {{}} FROM {relation.table} WHERE {relation.column} IS NOT NULL "
            "ORDER BY id LIMIT 1"
        )
        examples[relation.statement("dependents")] = lambda db, q=pointing, r=relation: {
            "ids": [_any(db, q.format(r.column))]
        }
        examples[relation.statement("cascade")] = lambda db, q=pointing, r=relation: {
            "ids": [_any(db, q.format("id"))],
            "parents": [_any(db, q.format(r.column))],
        }
    return examples


EXAMPLES.update(_orphan_examples())


def _a_policy(db: Database) -> dict[str, Any]:
    """The fixture runs without Supabase's row-level security: one policy to read back."""
    if db.dialect == "postgresql":
        execute(db, "CREATE POLICY a_test_policy ON users FOR SELECT USING (true)")
    return {}


EXAMPLES.update({name: lambda db: {} for name in CATALOG})
# A fixture receipt's payment, by its key (BMC-100007: 100007), and the window of its receipts.
EXAMPLES["receipts_mentioning"] = lambda db: {
    "pattern": "%" + _any(db, "SELECT bmc_reference FROM payment_receipts LIMIT 1")[4:] + "%"
}
EXAMPLES["bmc_receipts_since"] = lambda db: {"since": datetime(2020, 1, 1, tzinfo=UTC)}
EXAMPLES["catalog_policies"] = _a_policy
# SQLite keeps no functions or policies: their statements give the columns and no rows.
NO_ROWS_ON_SQLITE = {"catalog_functions", "catalog_policies"}

# Write statements that hand rows back (locks, INSERT ... RETURNING) are checked by their rows.
RETURNS_ROWS = {
    "lock_reference",
    "lock_usage",
    "lock_receipt",
    "insert_verified_receipt",
    "transaction_id",
}


def test_every_vetted_statement_has_an_example() -> None:
    assert set(EXAMPLES) == set(Registry.load().names())


# The transaction control the database layer sends in a pipeline: each is run where it means
# something, on a connection of its own in autocommit (no transaction around it).
TRANSACTION_CONTROL = ("begin_read_only", "begin_read_write", "commit")
EXAMPLES.update({name: lambda db: {} for name in TRANSACTION_CONTROL})


@pytest.mark.parametrize("begin", ["begin_read_only", "begin_read_write"])
def test_a_pipeline_s_transaction_control_begins_and_commits(db: Database, begin: str) -> None:
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            raw = conn.connection.driver_connection
            if db.dialect == "postgresql":
                raw.autocommit = True
            else:
                raw.isolation_level = None
            raw.execute(db.statement(begin).sql)
            if db.dialect == "postgresql":
                read_only = raw.execute("SHOW transaction_read_only").fetchone()[0]
                assert read_only == ("on" if begin == "begin_read_only" else "off")
            raw.execute(db.statement("commit").sql)
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", sorted(set(EXAMPLES) - set(TRANSACTION_CONTROL)))
def test_the_statement_runs(db: Database, name: str) -> None:
    params = EXAMPLES[name](db)
    if db.dialect == "sqlite" and name in NO_ROWS_ON_SQLITE:
        assert db.rows(name, **params) == []
        return
    if db.statement(name).mode == "read":
        assert db.rows(name, **params), f"{name} returned no rows on fixture data"
        return
    with db.write() as tx:
        if name in RETURNS_ROWS:
            assert len(tx.rows(name, **params)) == 1
        else:
            assert tx.run(name, **params) == 1
