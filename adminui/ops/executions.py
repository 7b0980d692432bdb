"""Execution history for on-call: pages of runs, the failure summary, stuck runs, one run whole."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops.values import as_bool, as_datetime, as_id, first_line
from adminui.ops.windows import Window

STATUSES = ("running", "completed", "failed", "partial")
_BUCKET_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_BUCKETS = 1000  # beyond this many empty leading buckets, the chart starts at the data
VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "list": (
        "started_at",
        "email",
        "status",
        "format_chosen",
        "error_step",
        "tokens_used",
        "duration_seconds",
        "error",
        "id",
    ),
    "summary": ("error_step", "count", "users", "latest", "partial"),
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class ExecutionRow:
    """One execution in a list; `error` is the first line of error_message."""

    id: str
    user_id: str
    email: str | None
    status: str | None
    format_chosen: str | None
    error_step: str | None
    error: str
    tokens_used: int | None
    duration_seconds: int | None
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class ExecutionPage:
    """One page, newest first; `after` is the next page's cursor (None: the last page)."""

    rows: tuple[ExecutionRow, ...]
    after: tuple[datetime, str] | None


@dataclass(frozen=True)
class StepFailures:
    """Failures of one error_step in the window."""

    error_step: str | None
    count: int
    users: int
    latest: datetime | None
    partial: int


@dataclass(frozen=True)
class Bucket:
    """Failed and partial runs that started in one hour or day (UTC) of the window."""

    start: datetime
    failed: int
    partial: int


@dataclass(frozen=True)
class FailureSeries:
    """Failures per bucket over a window, every bucket present (a quiet hour shows as 0)."""

    unit: str  # 'hour' or 'day'
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class OutputLine:
    """An output an execution produced."""

    id: str
    format: str
    published: bool | None
    publication_url: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class ExecutionDetail:
    """Every column of one execution, its user's email, its idea's title and its outputs."""

    id: str
    user_id: str
    email: str | None
    selected_idea_id: str | None
    idea_title: str | None
    judge_reasoning: str | None
    judge_score: int | None
    format_chosen: str | None
    format_reasoning: str | None
    status: str | None
    error_message: str | None
    error_step: str | None
    tokens_used: int | None
    duration_seconds: int | None
    started_at: datetime | None
    completed_at: datetime | None
    outputs: tuple[OutputLine, ...]


def _row(r: Any) -> ExecutionRow:
    return ExecutionRow(
        id=as_id(r["id"]),
        user_id=as_id(r["user_id"]),
        email=r["email"],
        status=r["status"],
        format_chosen=r["format_chosen"],
        error_step=r["error_step"],
        error=first_line(r["error_message"]),
        tokens_used=r["tokens_used"],
        duration_seconds=r["duration_seconds"],
        started_at=as_datetime(r["started_at"]),
        completed_at=as_datetime(r["completed_at"]),
    )


def list_executions(
    db: Database,
    *,
    status: str | None = None,
    step: str | None = None,
    email: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 300,
) -> ExecutionPage:
    """Executions newest first, filtered; keyset pages, so any depth costs one index walk."""
    if not 1 <= limit <= 10_000:
        raise InputError("--limit", "must be between 1 and 10,000")
    filters = _filters(status, step, email, since, until)
    if filters is None:
        return ExecutionPage((), None)
    rows = db.replica.rows(
        "list_executions",
        **filters,
        after_started=after[0] if after else None,
        after_id=after[1] if after else None,
        limit=limit + 1,
    )
    page = tuple(_row(r) for r in rows[:limit])
    last = page[-1] if len(rows) > limit else None
    return ExecutionPage(page, (last.started_at, last.id) if last and last.started_at else None)


def _filters(
    status: str | None,
    step: str | None,
    email: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any] | None:
    """The list filters as bound parameters, checked once for the list and the count of newer
    runs alike; None when nothing can match (PostgreSQL text can't hold NUL)."""
    if status is not None and status not in STATUSES:
        raise InputError("--status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    if any("\x00" in (v or "") for v in (step, email)):
        return None
    return {
        "status": status,
        "step": step or None,
        "email": email.strip() if email and email.strip() else None,
        "since": since,
        "until": until,
    }


def count_newer_executions(
    db: Database,
    top: tuple[datetime, str] | None,
    *,
    status: str | None = None,
    step: str | None = None,
    email: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cap: int = 999,
) -> int:
    """How many runs under the list's filters sort above `top` (the newest row on screen; None:
    every match), at most `cap + 1`, so a long absence costs a bounded index walk."""
    filters = _filters(status, step, email, since, until)
    if filters is None:
        return 0
    row = db.replica.one(
        "count_newer_executions",
        **filters,
        top_started=top[0] if top else None,
        top_id=top[1] if top else None,
        limit=cap + 1,
    )
    return int(row["newer"]) if row else 0


def failure_summary(
    db: Database, since: datetime | None = None, until: datetime | None = None
) -> tuple[StepFailures, ...]:
    """Failures per error_step in the window, most first."""
    return tuple(
        StepFailures(
            r["error_step"], r["count"], r["users"], as_datetime(r["latest"]), r["partial"]
        )
        for r in db.replica.rows("failure_summary", since=since, until=until)
    )


def failures_by_bucket(db: Database, window: Window, now: datetime | None = None) -> FailureSeries:
    """Failed and partial runs per hour (windows up to 48 h) or day, oldest first, with the
    empty buckets filled in so gaps show; no buckets at all when nothing failed. An open start,
    or one typed decades back, begins at the first failure instead of thousands of empty days."""
    now = now or datetime.now(UTC)
    unit = window.bucket(now)
    counts: dict[datetime, tuple[int, int]] = {}
    found = db.replica.rows("failures_by_bucket", unit=unit, since=window.since, until=window.until)
    for r in found:
        if (start := as_datetime(r["bucket"])) is not None:  # a run with no start has no bucket
            counts[start] = (int(r["failed"]), int(r["partial"]))
    if not counts:
        return FailureSeries(unit, ())
    step = _BUCKET_STEP[unit]
    end = min(window.until, now) if window.until else now
    end = max([end, *(bucket + step for bucket in counts)])  # runs dated after now still show
    first = _truncate(min(counts), unit)
    start = _truncate(window.since, unit) if window.since else first
    if (end - start) / step > MAX_BUCKETS:
        start = max(start, first)
    buckets = []
    while start < end:
        failed, partial = counts.get(start, (0, 0))
        buckets.append(Bucket(start, failed, partial))
        start += step
    return FailureSeries(unit, tuple(buckets))


def _truncate(moment: datetime, unit: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if unit == "day" else moment


def stuck_executions(
    db: Database, stuck_after_minutes: int, now: datetime | None = None
) -> tuple[ExecutionRow, ...]:
    """Runs still 'running' that started more than `stuck_after_minutes` ago, oldest first."""
    before = (now or datetime.now(UTC)) - timedelta(minutes=stuck_after_minutes)
    return tuple(_row(r) for r in db.replica.rows("stuck_executions", before=before))


def get_execution(db: Database, execution_id: str) -> ExecutionDetail:
    """One execution whole, with its outputs."""
    key = execution_id.strip().lower()
    if not _UUID.match(key):
        raise InputError("execution id", f"{execution_id[:60]!r} is not an execution id (a UUID)")
    with db.read() as tx:
        row = tx.one("get_execution", execution_id=key)
        if row is None:
            raise NotFoundError(f"No execution has the id {key}.")
        outputs = tx.rows("execution_outputs", execution_id=key)
    return ExecutionDetail(
        id=as_id(row["id"]),
        user_id=as_id(row["user_id"]),
        email=row["email"],
        selected_idea_id=as_id(row["selected_idea_id"]) if row["selected_idea_id"] else None,
        idea_title=row["idea_title"],
        judge_reasoning=row["judge_reasoning"],
        judge_score=row["judge_score"],
        format_chosen=row["format_chosen"],
        format_reasoning=row["format_reasoning"],
        status=row["status"],
        error_message=row["error_message"],
        error_step=row["error_step"],
        tokens_used=row["tokens_used"],
        duration_seconds=row["duration_seconds"],
        started_at=as_datetime(row["started_at"]),
        completed_at=as_datetime(row["completed_at"]),
        outputs=tuple(
            OutputLine(
                as_id(o["id"]),
                o["format"],
                as_bool(o["published"]),
                o["publication_url"],
                as_datetime(o["created_at"]),
            )
            for o in outputs
        ),
    )
