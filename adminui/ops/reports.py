"""A product's reports: the reads of a job that list what they find, named in its manifest
(OmniChat's ledger health, usage and money; filepath's budgets). One report is one vetted
statement; what it offers the operator follows from what it declares, so a new report is a
statement and a [[reports]] entry, never code: :user_id (an email or id, resolved as the lookup
resolves it), :model, :day and :since are filters; :now is the app's clock; :after_at and
:after_row make it a list read a page at a time, newest first, by keyset (the page's last `at`
and `row`), never OFFSET.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops.records import Record, records
from adminui.ops.users import resolve_user
from adminui.packs import Report

LIMIT = 100  # rows of a report unless asked for more
# A statement's parameter -> the filter the operator gives for it, in the order offered.
FILTERS = {"user_id": "user", "model": "model", "day": "day", "since": "since"}
PAGING = ("after_at", "after_row")


@dataclass(frozen=True)
class Found:
    """A report's rows (at most the limit); `found`, how many it finds in all where the
    statement counts them (a check's `found` column), else the rows read; `more` when rows were
    left out past the limit (one more is read to know); `after` starts the next page of a paged
    report (None: no more)."""

    report: Report
    rows: tuple[Record, ...]
    found: int
    more: bool = False
    after: tuple[Any, Any] | None = None

    @property
    def total(self) -> Any:
        """The figure of every row, not only those shown (the `total` column the statement
        computes over all of them: MRR in all); None when the report has none."""
        if not self.report.total:
            return None
        return self.rows[0][self.report.total] if self.rows else 0


def words(column: str) -> str:
    """A total's column as a person reads it: mrr_in_all -> MRR in all."""
    first, _, rest = column.partition("_")
    return " ".join([first.upper(), *rest.split("_")]).strip()


def offered(params: Iterable[str]) -> tuple[str, ...]:
    """The filters (user, model, day, since) a statement of these parameters offers."""
    return tuple(label for param, label in FILTERS.items() if param in params)


def filters(db: Database, report: Report) -> tuple[str, ...]:
    """The filters a report offers, from what its statement binds."""
    return offered(db.statement(report.statement).params)


def paged(db: Database, report: Report) -> bool:
    return all(p in db.statement(report.statement).params for p in PAGING)


def get_report(db: Database, job: str, name: str) -> Report:
    """One of the job's reports, by name."""
    known = {r.name: r for r in db.pack.reports_of(job)}
    if name not in known:
        raise InputError("report", f"is one of {', '.join(known)}, not {name[:40]!r}")
    return known[name]


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InputError("day", f"is a date like 2026-11-30, not {text[:40]!r}") from None


def _limit(limit: int) -> int:
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    return limit


def _call(db: Database, report: Report, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The report's statement with the values it declares, asking for one row more than the
    limit: whether any were left out."""
    asked = values | {"limit": values["limit"] + 1}
    return report.statement, {key: asked[key] for key in db.statement(report.statement).params}


def _found(db: Database, report: Report, values: dict[str, Any], found: list[Any]) -> Found:
    """The report's rows up to the limit, and whether (and after which) more were left out."""
    limit = values["limit"]
    rows = records(db.pack, found)
    more, rows = len(rows) > limit, rows[:limit]
    paging = "after_at" in db.statement(report.statement).params
    after = (rows[-1]["at"], rows[-1]["row"]) if more and paging else None
    found = int(rows[0]["found"]) if rows and "found" in rows[0] else len(rows)
    return Found(report, rows, found, more, after)


def read(
    db: Database,
    report: Report,
    *,
    user: str | None = None,
    model: str | None = None,
    day: str | None = None,
    since: datetime | None = None,
    after: tuple[Any, Any] | None = None,
    limit: int = LIMIT,
    now: datetime | None = None,
) -> Found:
    """One report (one page of a paged one), with the filters it offers; a filter given to a
    report that doesn't offer it is refused, never dropped."""
    given = {"user": user, "model": model, "day": day, "since": since}
    offered = filters(db, report)
    for label, value in given.items():
        if value is not None and label not in offered:
            raise InputError(label, f"{report.title or report.name} has no {label} filter")
    values: dict[str, Any] = {
        "user_id": resolve_user(db, user) if user else None,
        "model": (model.strip() or None) if model else None,
        "day": _day(day) if day else None,
        "since": since,
        "now": now or datetime.now(UTC),
        "limit": _limit(limit),
    }
    if paged(db, report):
        values |= dict(zip(PAGING, after or (None, None), strict=True))
    name, bound = _call(db, report, values)
    return _found(db, report, values, db.replica.rows(name, **bound))


def read_all(
    db: Database,
    job: str,
    limit: int = LIMIT,
    now: datetime | None = None,
    only: str | None = None,
) -> tuple[Found, ...]:
    """Every report of a job (`only`: the one of that name), in the manifest's order, in one
    transaction: the health checks as of one moment. One that asks for :now (a key expired by
    now) is given the app's clock, else the time now."""
    values = {"limit": _limit(limit), "now": now or datetime.now(UTC)}
    values |= dict.fromkeys(FILTERS) | dict.fromkeys(PAGING)
    reports = [r for r in db.pack.reports_of(job) if only is None or r.name == only]
    found = db.replica.read_many([_call(db, report, values) for report in reports])
    return tuple(
        _found(db, report, values, rows) for report, rows in zip(reports, found, strict=True)
    )
