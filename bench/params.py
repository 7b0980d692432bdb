"""Realistic parameters for every `read` statement in queries/, and how the app runs each one.

bench/run.py times each case twice in one run: through the app (the ops function that runs the
statement, or `db.read()` + `tx.rows()` where the statement only runs inside a larger operation)
and as the same SQL through a plain psycopg connection with these parameters.

A new `read` statement needs an entry in CASES (or in EXEMPT, with the reason): tests/test_bench.py
fails until it has one, so the benchmark can't silently skip a statement.

Parameters come from the database at hand (`Sample`, read once): a busy user, a failed run, a
receipt, cursors deep in the lists. The same code serves the 200,000-user database of
bench/make_scale.py and the tests' 60-user fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from adminui.db import Database
from adminui.ops import credits, executions, payments, users
from adminui.ops.values import like_pattern
from adminui.ops.windows import Window, months_before

STUCK_MINUTES = 60
LIST_PAGE = 300  # the executions screen's page
# Targets from the issues: (p95 limit in ms, where it comes from).
USER_SEARCH = (50.0, "user search p95 < 50 ms (#2)")
EXECUTION_PAGE = (50.0, "execution pages < 50 ms at any depth (#4)")
FAILURES_30D = (500.0, "failure summary (30 days) < 500 ms (#4)")
PAYMENT_SUMMARY = (300.0, "payment summaries < 300 ms (#5)")

# Read statements that are not benchmarked on their own, and why.
EXEMPT = {
    "transaction_settings": "runs at the start of every transaction the app opens: its cost is "
    "part of the overhead measured for every other statement",
    "transaction_status": "asked only after the reply to a write's COMMIT was lost",
    "write_privileges": "runs once, when the app or a command connects",
    "live_tables": "runs once, when a command connects without naming its product",
    "begin_read_only": "transaction control, sent in every read's pipeline: part of the "
    "overhead measured for every other statement",
    "commit": "transaction control, sent in every read's pipeline",
    "connection_search_path": "runs once per new connection, before SQLAlchemy's own first "
    "statements: part of connecting, not of any screen's work",
}


@dataclass(frozen=True)
class Sample:
    """What the parameters are built from, read once from the database."""

    now: datetime
    busy_user: str  # the user with the most receipts (and so a long detail screen)
    busy_email: str
    user_prefix: str  # the first 8 hex digits of a user id
    search_text: str  # a last name: matches a share of users, as a typed search does
    receipt_id: str
    reference: str  # a reference used by two receipts
    failed_run: str  # a failed execution that has outputs when one does
    runs: int
    cursors: dict[str, tuple[datetime, str]]  # executions list cursor at a depth
    ids: dict[str, list[str]]  # 100 ids of each table other rows point at


@dataclass(frozen=True)
class Case:
    """One statement with one set of parameters, and the app's way of running it."""

    label: str
    statement: str
    params: dict[str, Any]
    app: Callable[[Database], object]
    via: str  # what `app` calls, for the report
    target: tuple[float, str] | None = None


def _one(conn: psycopg.Connection, sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    if row is None:
        raise SystemExit(f"bench params: the database has no row for: {sql}")
    return row[0] if len(row) == 1 else row


def sample(conn: psycopg.Connection, now: datetime | None = None) -> Sample:
    """Read what the parameters need from the database at `conn`."""
    runs = _one(conn, "SELECT count(*) FROM executions")
    busy = _one(
        conn,
        "SELECT user_id FROM payment_receipts GROUP BY user_id "
        "ORDER BY count(*) DESC, user_id LIMIT 1",
    )
    cursors = {}
    for label, depth in (("10%", runs // 10), ("50%", runs // 2)):
        cursors[label] = _one(
            conn,
            "SELECT started_at, id::text FROM executions ORDER BY started_at DESC, id DESC "
            f"OFFSET {depth} LIMIT 1",
        )
    return Sample(
        now=now or datetime.now(UTC),
        busy_user=str(busy),
        busy_email=_one(conn, f"SELECT email FROM users WHERE id = '{busy}'"),
        user_prefix=str(_one(conn, "SELECT id FROM users ORDER BY email LIMIT 1"))[:8],
        search_text=_one(
            conn, "SELECT name FROM users WHERE name IS NOT NULL ORDER BY id LIMIT 1"
        ).split()[-1],
        receipt_id=str(_one(conn, "SELECT id FROM payment_receipts ORDER BY id LIMIT 1")),
        reference=_one(
            conn,
            "SELECT lower(trim(bmc_reference)) FROM payment_receipts "
            "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 LIMIT 1",
        ),
        failed_run=str(
            _one(
                conn,
                "SELECT e.id FROM executions e WHERE e.status IN ('failed', 'partial') "
                "ORDER BY EXISTS (SELECT 1 FROM outputs o WHERE o.execution_id = e.id) DESC, "
                "e.started_at DESC LIMIT 1",
            )
        ),
        runs=runs,
        cursors=cursors,
        ids={
            table: [
                str(r[0])
                for r in conn.execute(f"SELECT id FROM {table} ORDER BY id LIMIT 100").fetchall()
            ]
            for table in ("ideas", "executions", "outputs")
        },
    )


def _in_read(name: str, params: dict[str, Any]) -> Callable[[Database], object]:
    """The app's way to run a statement that belongs to a larger operation."""

    def run(db: Database) -> object:
        with db.read() as tx:
            return tx.rows(name, **params)

    return run


def _inside(label: str, name: str, params: dict[str, Any], op: str) -> Case:
    return Case(label, name, params, _in_read(name, params), f"db.read() + tx.rows (in {op})")


def _search(s: Sample, text: str) -> dict[str, Any]:
    low, high = users.id_prefix_range(text)
    return {"pattern": like_pattern(text), "id_low": low, "id_high": high, "limit": 101}


def _executions(after: tuple[datetime, str] | None = None, **filters: Any) -> dict[str, Any]:
    params = {
        "status": None,
        "step": None,
        "email": None,
        "since": None,
        "until": None,
        "after_started": after[0] if after else None,
        "after_id": after[1] if after else None,
        "limit": LIST_PAGE + 1,
    }
    return {**params, **filters}


def _list_cases(s: Sample) -> list[Case]:
    cases = [
        Case(
            "list_executions: first page",
            "list_executions",
            _executions(),
            lambda db: executions.list_executions(db, limit=LIST_PAGE),
            "ops.executions.list_executions",
            EXECUTION_PAGE,
        ),
        Case(
            "list_executions: failed, first page",
            "list_executions",
            _executions(status="failed"),
            lambda db: executions.list_executions(db, status="failed", limit=LIST_PAGE),
            "ops.executions.list_executions",
            EXECUTION_PAGE,
        ),
    ]
    for depth, after in s.cursors.items():
        cases.append(
            Case(
                f"list_executions: page at {depth} depth",
                "list_executions",
                _executions(after),
                lambda db, after=after: executions.list_executions(
                    db, after=after, limit=LIST_PAGE
                ),
                "ops.executions.list_executions",
                EXECUTION_PAGE,
            )
        )
    return cases


def _payments_list(s: Sample) -> list[Case]:
    params = {
        "status": None,
        "since": None,
        "until": None,
        "pattern": None,
        "after_created": None,
        "after_id": None,
        "limit": 201,
    }
    return [
        Case(
            "list_payments: first page",
            "list_payments",
            params,
            lambda db: payments.list_payments(db),
            "ops.payments.list_payments",
        )
    ]


def _by_month(s: Sample) -> list[Case]:
    return [
        Case(
            f"payments_by_month: {n} months",
            "payments_by_month",
            {"months": [months_before(s.now, back) for back in range(n - 1, -1, -1)]},
            lambda db, n=n: payments.by_month(db, n, s.now),
            "ops.payments.by_month",
            PAYMENT_SUMMARY,
        )
        for n in (12, 24)
    ]


# Statement name -> the cases that measure it.
CASES: dict[str, Callable[[Sample], list[Case]]] = {
    "recent_users": lambda s: [
        Case(
            "recent_users: 100",
            "recent_users",
            {"limit": 101},
            lambda db: users.recent_users(db),
            "ops.users.recent_users",
        )
    ],
    "find_users": lambda s: [
        Case(
            f"find_users: {text!r} ({kind})",
            "find_users",
            _search(s, text),
            lambda db, text=text: users.find_users(db, text),
            "ops.users.find_users",
            USER_SEARCH,
        )
        for kind, text in (
            ("a last name", s.search_text.lower()),
            ("a whole email", s.busy_email),
            ("an id prefix", s.user_prefix),
            ("no match", "zzqx-none"),
        )
    ],
    "user_ids_by_email": lambda s: [
        Case(
            "user_ids_by_email",
            "user_ids_by_email",
            {"email": s.busy_email},
            lambda db: users.resolve_user(db, s.busy_email),
            "ops.users.resolve_user",
        )
    ],
    "user_ids_by_email_ci": lambda s: [
        _inside(
            "user_ids_by_email_ci",
            "user_ids_by_email_ci",
            {"email": s.busy_email.upper()},
            "ops.users.resolve_user",
        )
    ],
    "get_user": lambda s: [
        Case(
            "get_user",
            "get_user",
            {"user_id": s.busy_user},
            lambda db: users.resolve_user(db, s.busy_user),
            "ops.users.resolve_user",
        )
    ],
    **{
        name: (
            lambda s, name=name: [
                _inside(
                    name,
                    name,
                    {"user_id": s.busy_user, **({"limit": 10} if "recent" in name else {})},
                    "ops.users.get_user_detail",
                )
            ]
        )
        for name in (
            "user_content_counts",
            "user_execution_summary",
            "user_recent_executions",
            "user_receipts",
            "user_credentials",
        )
    },
    "receipts_by_reference": lambda s: [
        _inside(
            "receipts_by_reference",
            "receipts_by_reference",
            {"reference": s.reference},
            "ops.credits.preview_grant",
        )
    ],
    "get_receipt": lambda s: [
        Case(
            "get_receipt",
            "get_receipt",
            {"receipt_id": s.receipt_id},
            lambda db: credits.get_receipt(db, s.receipt_id),
            "ops.credits.get_receipt",
        )
    ],
    "pending_receipts": lambda s: [
        Case(
            "pending_receipts: 500",
            "pending_receipts",
            {"limit": 500},
            lambda db: credits.pending_receipts(db),
            "ops.credits.pending_receipts",
        )
    ],
    "list_executions": _list_cases,
    "failure_summary": lambda s: [
        Case(
            "failure_summary: 30 days",
            "failure_summary",
            {"since": s.now - timedelta(days=30), "until": None},
            lambda db: executions.failure_summary(db, s.now - timedelta(days=30)),
            "ops.executions.failure_summary",
            FAILURES_30D,
        )
    ],
    "failures_by_bucket": lambda s: [
        Case(
            "failures_by_bucket: 30 days by day",
            "failures_by_bucket",
            {"unit": "day", "since": s.now - timedelta(days=30), "until": None},
            lambda db: executions.failures_by_bucket(db, Window(s.now - timedelta(days=30)), s.now),
            "ops.executions.failures_by_bucket",
            FAILURES_30D,
        )
    ],
    "count_newer_executions": lambda s: [
        Case(
            "count_newer_executions: above the 10% cursor",
            "count_newer_executions",
            {
                **{k: v for k, v in _executions().items() if not k.startswith("after")},
                "top_started": s.cursors["10%"][0],
                "top_id": s.cursors["10%"][1],
                "limit": 1000,
            },
            lambda db: executions.count_newer_executions(db, s.cursors["10%"]),
            "ops.executions.count_newer_executions",
        )
    ],
    "stuck_executions": lambda s: [
        Case(
            f"stuck_executions: > {STUCK_MINUTES} min",
            "stuck_executions",
            {"before": s.now - timedelta(minutes=STUCK_MINUTES)},
            lambda db: executions.stuck_executions(db, STUCK_MINUTES, s.now),
            "ops.executions.stuck_executions",
        )
    ],
    "get_execution": lambda s: [
        _inside(
            "get_execution",
            "get_execution",
            {"execution_id": s.failed_run},
            "ops.executions.get_execution",
        )
    ],
    "execution_outputs": lambda s: [
        _inside(
            "execution_outputs",
            "execution_outputs",
            {"execution_id": s.failed_run},
            "ops.executions.get_execution",
        )
    ],
    "payments_by_status": lambda s: [
        Case(
            "payments_by_status: all time",
            "payments_by_status",
            {"since": None},
            lambda db: payments.by_status(db),
            "ops.payments.by_status",
            PAYMENT_SUMMARY,
        )
    ],
    "payments_by_month": _by_month,
    "payments_by_user": lambda s: [
        Case(
            "payments_by_user: top 100",
            "payments_by_user",
            {"since": None, "limit": 100},
            lambda db: payments.by_user(db, 100),
            "ops.payments.by_user",
            PAYMENT_SUMMARY,
        )
    ],
    "list_payments": _payments_list,
    # A grant --bmc's check of its payment (any form of its reference), and a reconciliation's
    # receipts of 30 days.
    "receipts_mentioning": lambda s: [
        _inside(
            "receipts_mentioning",
            "receipts_mentioning",
            {"pattern": like_pattern(s.reference.removeprefix("BMC-"))},
            "ops.credits.reference_receipts",
        )
    ],
    "bmc_receipts_since": lambda s: [
        _inside(
            "bmc_receipts_since: 30 days",
            "bmc_receipts_since",
            {"since": s.now - timedelta(days=30)},
            "ops.bmc.reconcile",
        )
    ],
}


def _orphan_case(name: str) -> Callable[[Sample], list[Case]] | None:
    """The orphan checks' statements, one family per kind (their names follow the checks)."""
    from adminui.ops import health, orphans

    if name in ("live_foreign_keys", "live_indexes"):
        op = health.foreign_keys if name == "live_foreign_keys" else health.indexes
        return lambda s: [Case(name, name, {}, op, f"ops.health.{op.__name__}")]
    for check in orphans.checks():
        if name == check.statement("count"):
            return lambda s, c=check: [
                Case(name, name, {}, lambda db: orphans.count(db, c), "ops.orphans.count")
            ]
        if name == check.statement("preview"):
            first = {"after": "00000000-0000-0000-0000-000000000000", "limit": 100}
            return lambda s, c=check: [
                Case(name, name, first, lambda db: orphans.preview(db, c), "ops.orphans.preview")
            ]
    for relation in orphans.relations():
        if name == relation.statement("dependents"):
            return lambda s, r=relation: [
                _inside(name, name, {"ids": s.ids[r.parent]}, "ops.orphans.dependents")
            ]
    return None


# The schema check's catalog reads (adminui schema check), each on its own; bench/schema_check.py
# times the whole check against psql reading the same catalog.
CATALOG = (
    "catalog_tables",
    "catalog_columns",
    "catalog_constraints",
    "catalog_indexes",
    "catalog_triggers",
    "catalog_functions",
    "catalog_policies",
)


def _catalog_case(name: str) -> Callable[[Sample], list[Case]] | None:
    if name not in CATALOG:
        return None
    return lambda s: [_inside(name, name, {}, "ops.schema_check.check")]


def builder(name: str) -> Callable[[Sample], list[Case]] | None:
    """How to build the cases of statement `name`; None when it has no bench parameters."""
    return CASES.get(name) or _orphan_case(name) or _catalog_case(name)


def cases(s: Sample, names: list[str]) -> list[Case]:
    """Every case of the read statements `names` (those without params are an error)."""
    missing = [n for n in names if builder(n) is None and n not in EXEMPT]
    if missing:
        raise SystemExit(f"bench/params.py has no parameters for: {', '.join(missing)}")
    return [case for name in names if name not in EXEMPT for case in builder(name)(s)]
