"""Execution history on both dialects, checked against the seed's own SQL and the tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import text

from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops import executions
from adminui.ops.values import as_datetime
from adminui.ops.windows import Window, parse_window
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


def _failures_in_python(db: Database) -> list[tuple[object, str]]:
    """(started_at, status) of every failed or partial run whose user exists, read raw."""
    with raw_engine(db).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.started_at, e.status FROM executions e JOIN users u ON u.id = e.user_id "
                "WHERE e.status IN ('failed', 'partial')"
            )
        ).all()
    return [(as_datetime(started), status) for started, status in rows]


@pytest.mark.parametrize(("hours", "unit"), [(48, "hour"), (24 * 30, "day")])
def test_failures_by_bucket_equal_an_independent_count(db: Database, hours: int, unit: str) -> None:
    runs = _failures_in_python(db)
    latest = max(started for started, status in runs if status == "failed")
    window = Window(latest - timedelta(hours=hours - 1), latest + timedelta(hours=1))
    series = executions.failures_by_bucket(db, window, now=FIXTURE_NOW)
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    assert series.unit == unit
    starts = [b.start for b in series.buckets]
    assert all(b - a == step for a, b in pairwise(starts))  # no gaps
    for bucket in series.buckets:
        inside = [
            status
            for started, status in runs
            if window.since <= started < window.until
            and bucket.start <= started < bucket.start + step
        ]
        assert (bucket.failed, bucket.partial) == (
            inside.count("failed"),
            inside.count("partial"),
        ), bucket.start
    assert sum(b.failed for b in series.buckets) > 0
    assert starts[0] <= window.since < starts[0] + step and starts[-1] < window.until


def test_failures_by_bucket_over_all_time_add_up_to_the_summary(db: Database) -> None:
    series = executions.failures_by_bucket(db, Window(), now=FIXTURE_NOW)
    assert series.unit == "day"
    summary = executions.failure_summary(db)
    assert sum(b.failed for b in series.buckets) == sum(s.count for s in summary) > 0
    assert sum(b.partial for b in series.buckets) == sum(s.partial for s in summary)
    future = Window(FIXTURE_NOW + timedelta(days=400))
    assert executions.failures_by_bucket(db, future).buckets == ()  # nothing failed: no chart
    long_ago = executions.failures_by_bucket(db, Window(datetime(1900, 1, 1, tzinfo=UTC)))
    assert long_ago.buckets[0] == series.buckets[0]  # starts at the first failure, not 1900


def test_the_summary_window_has_an_upper_bound(db: Database) -> None:
    runs = _failures_in_python(db)
    until = FIXTURE_NOW - timedelta(days=30)
    expected = sum(1 for started, status in runs if status == "failed" and started < until)
    assert sum(s.count for s in executions.failure_summary(db, until=until)) == expected > 0


def test_counting_runs_newer_than_the_top_row(db: Database) -> None:
    rows = executions.list_executions(db, limit=10).rows
    top = (rows[4].started_at, rows[4].id)
    assert executions.count_newer_executions(db, top) == 4
    assert executions.count_newer_executions(db, (rows[0].started_at, rows[0].id)) == 0
    total = scalar(db, "SELECT COUNT(*) FROM executions")
    assert executions.count_newer_executions(db, None, cap=10**6) == total
    assert executions.count_newer_executions(db, None, cap=5) == 6  # "more than 5"
    failed = executions.list_executions(db, status="failed", limit=3).rows
    newer_failed = executions.count_newer_executions(
        db, (failed[2].started_at, failed[2].id), status="failed"
    )
    assert newer_failed == 2
    with pytest.raises(InputError, match="--status"):
        executions.count_newer_executions(db, None, status="exploded")


@pytest.mark.parametrize(
    ("since", "until", "expected", "unit"),
    [
        ("24h", "", Window(FIXTURE_NOW - timedelta(hours=24)), "hour"),
        ("48h", "", Window(FIXTURE_NOW - timedelta(hours=48)), "hour"),
        ("7d", "", Window(FIXTURE_NOW - timedelta(days=7)), "day"),
        ("all", "", Window(), "day"),
        ("", "2026-05-01", Window(None, datetime(2026, 5, 1, tzinfo=UTC)), "day"),
        (
            "2026-05-01",
            "2026-05-01T10:00",
            Window(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 1, 10, tzinfo=UTC)),
            "hour",
        ),
        (
            "1h",
            "2026-07-01",
            Window(FIXTURE_NOW - timedelta(hours=1), datetime(2026, 7, 1, tzinfo=UTC)),
            "hour",
        ),
    ],
)
def test_windows_and_their_buckets(since: str, until: str, expected: Window, unit: str) -> None:
    window = parse_window(since, until, FIXTURE_NOW)
    assert window == expected and window.bucket(FIXTURE_NOW) == unit


@pytest.mark.parametrize(
    ("since", "until", "field", "problem"),
    [
        ("2027-01-01", "", "from", "in the future"),
        ("yesterday", "", "from", "is not a window"),
        ("7d", "soon", "to", "is not a window"),
        ("2026-05-02", "2026-05-01", "to", "must be after from"),
    ],
)
def test_bad_windows_name_their_field(since: str, until: str, field: str, problem: str) -> None:
    with pytest.raises(InputError, match=f"^{field}: .*{problem}"):
        parse_window(since, until, FIXTURE_NOW, fields=("from", "to"))
