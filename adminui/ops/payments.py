"""Payment summaries: totals by status, by month, by user (top payers). Money is exact: the
statements sum whole cents on both dialects and these functions turn them into Decimal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops.credits import ReceiptInfo, receipt_from_row
from adminui.ops.values import CENT, as_datetime, like_pattern
from adminui.ops.windows import months_before

STATUSES = ("verified", "pending", "refunded")
# Each view's columns, in order: the CLI's tables and JSON keys and the screen's exports.
VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "status": ("status", "receipts", "total_usd", "total_credits", "oldest"),
    "month": (
        "month",
        "verified_receipts",
        "verified_usd",
        "verified_credits",
        "refunded_receipts",
        "refunded_usd",
    ),
    "user": ("email", "payments", "total_credits", "total_spent", "last_payment"),
    "list": (
        "created_at",
        "email",
        "amount_usd",
        "credits_purchased",
        "bmc_reference",
        "status",
        "verified_by",
        "id",
    ),
}


def dollars(cents: Any) -> Decimal:
    """Whole cents from the database as exact dollars."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)


@dataclass(frozen=True)
class StatusTotal:
    """Receipts of one status."""

    status: str
    receipts: int
    total_usd: Decimal
    total_credits: int
    oldest: datetime | None


@dataclass(frozen=True)
class MonthTotal:
    """One calendar month (UTC): verified revenue and refunds."""

    month: str
    verified_receipts: int
    verified_usd: Decimal
    verified_credits: int
    refunded_receipts: int
    refunded_usd: Decimal


@dataclass(frozen=True)
class UserTotal:
    """One payer, as the seed's "Payment summary by user" counts them (verified receipts)."""

    email: str
    payments: int
    total_credits: int
    total_spent: Decimal
    last_payment: datetime | None


@dataclass(frozen=True)
class Overview:
    """The operator's first look: totals by status, this month against last, the queue."""

    by_status: tuple[StatusTotal, ...]
    this_month_usd: Decimal
    last_month_usd: Decimal
    average_receipt_usd: Decimal | None
    pending: int
    oldest_pending_age: timedelta | None


def by_status(db: Database, since: datetime | None = None) -> tuple[StatusTotal, ...]:
    """Count, USD and credits per status (every status listed, zero when none)."""
    return _status_totals(db.replica.rows("payments_by_status", since=since))


def _status_totals(found: list[Any]) -> tuple[StatusTotal, ...]:
    rows = {r["status"]: r for r in found}
    return tuple(
        StatusTotal(
            status=status,
            receipts=rows[status]["receipts"] if status in rows else 0,
            total_usd=dollars(rows[status]["total_cents"] if status in rows else 0),
            total_credits=int(rows[status]["total_credits"] or 0) if status in rows else 0,
            oldest=as_datetime(rows[status]["oldest"]) if status in rows else None,
        )
        for status in STATUSES
    )


def by_month(db: Database, months: int = 12, now: datetime | None = None) -> tuple[MonthTotal, ...]:
    """The last `months` calendar months, oldest first, months without receipts included."""
    starts = _month_starts(months, now)
    return _month_totals(db.replica.rows("payments_by_month", months=starts), starts)


def _month_starts(months: int, now: datetime | None) -> list[datetime]:
    """The first instants of the last `months` calendar months (UTC), oldest first."""
    if not 1 <= months <= 120:
        raise InputError("months", "must be between 1 and 120")
    now = now or datetime.now(UTC)
    return [months_before(now, offset) for offset in range(months - 1, -1, -1)]


def _month_totals(found: list[Any], starts: list[datetime]) -> tuple[MonthTotal, ...]:
    rows = {r["month"]: r for r in found}
    result = []
    for start in starts:
        month = f"{start:%Y-%m}"
        row = rows.get(month)
        result.append(
            MonthTotal(
                month=month,
                verified_receipts=row["verified_receipts"] if row else 0,
                verified_usd=dollars(row["verified_cents"] if row else 0),
                verified_credits=int(row["verified_credits"] or 0) if row else 0,
                refunded_receipts=row["refunded_receipts"] if row else 0,
                refunded_usd=dollars(row["refunded_cents"] if row else 0),
            )
        )
    return tuple(result)


def by_user(db: Database, limit: int = 100, since: datetime | None = None) -> tuple[UserTotal, ...]:
    """Top payers, most spent first (the seed's query, ties by email)."""
    _check_limit(limit)
    return _user_totals(db.replica.rows("payments_by_user", since=since, limit=limit))


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= 100_000:
        raise InputError("limit", "must be between 1 and 100,000")


def _user_totals(found: list[Any]) -> tuple[UserTotal, ...]:
    return tuple(
        UserTotal(
            email=r["email"],
            payments=r["payments"],
            total_credits=int(r["total_credits"] or 0),
            total_spent=dollars(r["total_cents"]),
            last_payment=as_datetime(r["last_payment"]),
        )
        for r in found
    )


def overview(db: Database, now: datetime | None = None) -> Overview:
    """Totals by status, this month against last month, average receipt, the pending queue."""
    return summaries(db, 2, now, payers=0).overview


@dataclass(frozen=True)
class Summaries:
    """The payments screen's first look: the overview, the months, the top payers."""

    overview: Overview
    months: tuple[MonthTotal, ...]
    payers: tuple[UserTotal, ...]


def summaries(
    db: Database, months: int = 12, now: datetime | None = None, *, payers: int = 100
) -> Summaries:
    """The overview, the last `months` months (at least the two it compares) and the top
    `payers` (0: none), read in one transaction: one round trip."""
    now = now or datetime.now(UTC)
    starts = _month_starts(max(months, 2), now)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("payments_by_status", {"since": None}),
        ("payments_by_month", {"months": starts}),
    ]
    if payers:
        _check_limit(payers)
        calls.append(("payments_by_user", {"since": None, "limit": payers}))
    statuses, month_rows, *payer_rows = db.replica.read_many(calls)
    all_months = _month_totals(month_rows, starts)
    return Summaries(
        _overview(_status_totals(statuses), all_months[-2:], now),
        all_months[-months:],
        _user_totals(payer_rows[0]) if payers else (),
    )


def _overview(
    statuses: tuple[StatusTotal, ...], last_two: tuple[MonthTotal, ...], now: datetime
) -> Overview:
    last, this = last_two
    verified = next(s for s in statuses if s.status == "verified")
    pending = next(s for s in statuses if s.status == "pending")
    average = (verified.total_usd / verified.receipts).quantize(CENT) if verified.receipts else None
    return Overview(
        by_status=statuses,
        this_month_usd=this.verified_usd,
        last_month_usd=last.verified_usd,
        average_receipt_usd=average,
        pending=pending.receipts,
        oldest_pending_age=now - pending.oldest if pending.oldest else None,
    )


@dataclass(frozen=True)
class PaymentPage:
    """One page of the list; `after` is the cursor of the next page (None: this is the last)."""

    rows: tuple[ReceiptInfo, ...]
    after: tuple[datetime, str] | None


def list_payments(
    db: Database,
    *,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 200,
) -> PaymentPage:
    """Receipts newest first, filtered; pages by keyset so any depth costs the same."""
    if status is not None and status not in STATUSES:
        raise InputError("--status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    if search is not None and "\x00" in search:
        return PaymentPage((), None)  # PostgreSQL text can't hold NUL: nothing matches
    pattern = like_pattern(search) if search and search.strip() else None
    rows = db.replica.rows(
        "list_payments",
        status=status,
        since=since,
        until=until,
        pattern=pattern,
        after_created=after[0] if after else None,
        after_id=after[1] if after else None,
        limit=limit + 1,
    )
    page = tuple(receipt_from_row(r) for r in rows[:limit])
    last = page[-1] if len(rows) > limit else None
    return PaymentPage(page, (last.created_at, last.id) if last and last.created_at else None)
