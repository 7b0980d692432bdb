"""Execution history on both dialects, checked against the seed's own SQL and the tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import text

from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops import executions
from adminui.ops.values import as_datetime
from tests.conftest import FIXTURE_NOW, raw_engine, scalar

SEED_FAILED_EXPANSIONS = """
SELECT
  u.email,
  e.error_step,
  COUNT(*) as count,
  MAX(e.completed_at) as latest
FROM executions e
JOIN users u ON e.user_id = u.id
WHERE e.status = 'failed'
GROUP BY u.email, e.error_step
ORDER BY count DESC;
"""


def test_the_failure_summary_equals_the_seeds_query_grouped_by_step(db: Database) -> None:
    with raw_engine(db).connect() as conn:
        seed = conn.execute(text(SEED_FAILED_EXPANSIONS)).all()
    expected: dict[object, dict] = defaultdict(lambda: {"count": 0, "users": set(), "latest": None})
    for email, step, count, latest in seed:
        group = expected[step]
        group["count"] += count
        group["users"].add(email)
        when = as_datetime(latest)
        if when and (group["latest"] is None or when > group["latest"]):
            group["latest"] = when
    ours = {s.error_step: s for s in executions.failure_summary(db) if s.count}
    assert set(ours) == set(expected) and ours
    for step, group in expected.items():
        assert (ours[step].count, ours[step].users, ours[step].latest) == (
            group["count"],
            len(group["users"]),
            group["latest"],
        )
    counts = [s.count for s in executions.failure_summary(db)]
    assert counts == sorted(counts, reverse=True)


def test_pages_cover_every_execution_once_newest_first(db: Database) -> None:
    seen, after = [], None
    while True:
        page = executions.list_executions(db, after=after, limit=11)
        seen += page.rows
        if page.after is None:
            break
        after = page.after
    assert len({r.id for r in seen}) == len(seen) == scalar(db, "SELECT COUNT(*) FROM executions")
    keys = [(r.started_at, r.id) for r in seen]
    assert keys == sorted(keys, reverse=True)


def test_filters(db: Database) -> None:
    failed = executions.list_executions(db, status="failed", limit=10_000).rows
    assert failed and all(r.status == "failed" and r.error for r in failed)
    step = failed[0].error_step
    by_step = executions.list_executions(db, step=step, limit=10_000).rows
    assert by_step and {r.error_step for r in by_step} == {step}
    email = failed[0].email
    mine = executions.list_executions(db, email=email.upper(), limit=10_000).rows
    assert mine and {r.email for r in mine} == {email}
    since = FIXTURE_NOW - timedelta(days=7)
    recent = executions.list_executions(db, since=since, limit=10_000).rows
    assert all(r.started_at >= since for r in recent)
    with pytest.raises(InputError, match="--status"):
        executions.list_executions(db, status="exploded")


def test_stuck_runs_are_running_and_old(db: Database) -> None:
    stuck = executions.stuck_executions(db, 60, now=FIXTURE_NOW)
    assert stuck and all(r.status == "running" for r in stuck)
    assert all(r.started_at < FIXTURE_NOW - timedelta(minutes=60) for r in stuck)
    assert executions.stuck_executions(db, 60 * 24 * 365, now=FIXTURE_NOW) == ()


def test_one_execution_whole(db: Database) -> None:
    longest = str(
        scalar(
            db,
            "SELECT id FROM executions WHERE error_message IS NOT NULL "
            "ORDER BY length(error_message) DESC LIMIT 1",
        )
    )
    detail = executions.get_execution(db, longest.upper())
    stored = scalar(db, "SELECT error_message FROM executions WHERE id = :i", i=longest)
    assert detail.error_message == stored and "\n" in stored
    with_outputs = str(scalar(db, "SELECT execution_id FROM outputs LIMIT 1"))
    assert len(executions.get_execution(db, with_outputs).outputs) == scalar(
        db, "SELECT COUNT(*) FROM outputs WHERE execution_id = :i", i=with_outputs
    )
    with pytest.raises(NotFoundError):
        executions.get_execution(db, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(InputError):
        executions.get_execution(db, "'; DROP TABLE executions;--")
