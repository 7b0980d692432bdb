"""Payment summaries are exact: every total equals the database's own SUM, on both dialects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops import payments
from adminui.ops.windows import months_before, parse_since
from tests.conftest import FIXTURE_NOW, raw_engine, scalar

AWKWARD = ["0.10", "0.20", "999999.99", "999999.99", "0.01", "33.33", "0.30"]
SEED_BY_USER = """
SELECT
  u.email,
  COUNT(*) as payments,
  SUM(pr.credits_purchased) as total_credits,
  SUM(pr.amount_usd) as total_spent
FROM payment_receipts pr
JOIN users u ON pr.user_id = u.id
WHERE pr.status = 'verified'
GROUP BY u.email
ORDER BY total_spent DESC;
"""


@pytest.fixture
def awkward(db: Database) -> Database:
    """Fixture data plus amounts that floats get wrong."""
    user_id = str(scalar(db, "SELECT id FROM users ORDER BY email LIMIT 1"))
    with db.write() as tx:
        for n, amount in enumerate(AWKWARD):
            when = FIXTURE_NOW - timedelta(days=n)
            tx.run(
                "insert_receipt",
                id=str(uuid.uuid4()),
                user_id=user_id,
                amount_usd=Decimal(amount),
                credits_purchased=1,
                bmc_reference=f"AWK-{n}",
                notes=None,
                verified_by="t",
                status="verified",
                created_at=when,
                verified_at=when,
            )
    return db


def database_sum(db: Database, status: str) -> Decimal:
    """The database's own SUM (a float on SQLite, rounded to cents there)."""
    value = scalar(db, "SELECT SUM(amount_usd) FROM payment_receipts WHERE status = :s", s=status)
    return Decimal(str(round(value, 2) if isinstance(value, float) else value)).quantize(
        Decimal("0.01")
    )


def exact_sum(db: Database, status: str) -> Decimal:
    """The same total added up in Python from each stored amount."""
    with raw_engine(db).connect() as conn:
        amounts = (
            conn.execute(
                text("SELECT amount_usd FROM payment_receipts WHERE status = :s"), {"s": status}
            )
            .scalars()
            .all()
        )
    return sum((Decimal(str(a)) for a in amounts), Decimal("0.00")).quantize(Decimal("0.01"))


def test_totals_by_status_equal_the_databases_own_sums(awkward: Database) -> None:
    for total in payments.by_status(awkward):
        assert (
            total.total_usd
            == database_sum(awkward, total.status)
            == exact_sum(awkward, total.status)
        )
        assert total.receipts == scalar(
            awkward, "SELECT COUNT(*) FROM payment_receipts WHERE status = :s", s=total.status
        )
        assert isinstance(total.total_usd, Decimal) and total.total_usd.as_tuple().exponent == -2
    verified = next(t for t in payments.by_status(awkward) if t.status == "verified")
    assert verified.total_usd - exact_sum(awkward, "verified") == 0


def test_by_user_matches_the_seed_query(awkward: Database) -> None:
    with raw_engine(awkward).connect() as conn:
        seed = conn.execute(text(SEED_BY_USER)).all()
    ours = payments.by_user(awkward, limit=100_000)
    assert len(ours) == len(seed)
    as_seed = {(r[0], r[1], int(r[2]), Decimal(str(r[3])).quantize(Decimal("0.01"))) for r in seed}
    assert {(u.email, u.payments, u.total_credits, u.total_spent) for u in ours} == as_seed
    spent = [u.total_spent for u in ours]
    assert spent == sorted(spent, reverse=True)  # the seed's order (ties by email)
    assert ours[0].total_spent >= Decimal("1999999.98")


def test_top_payers_cut_at_any_limit_keep_the_ties_order(db: Database) -> None:
    """The statement keeps only the top totals (and those tied with the last) before joining
    users; every cut must still be the first rows of the whole ranking, ties by email."""
    ranking = payments.by_user(db, limit=100_000)
    totals = [u.total_spent for u in ranking]
    assert len(set(totals)) < len(totals), "the fixture needs tied totals for this to test"
    for limit in range(1, len(ranking) + 1):
        assert payments.by_user(db, limit=limit) == ranking[:limit], limit


def test_months_add_up_to_the_verified_total(awkward: Database) -> None:
    months = payments.by_month(awkward, 24, now=FIXTURE_NOW)
    assert len(months) == 24 and months[-1].month == "2026-06" and months[0].month == "2024-07"
    start = months_before(FIXTURE_NOW, 23)
    expected = scalar(
        awkward,
        "SELECT COUNT(*) FROM payment_receipts WHERE status = 'verified' AND created_at >= :s",
        s=start if awkward.dialect == "postgresql" else f"{start:%Y-%m-%d %H:%M:%S}",
    )
    assert sum(m.verified_receipts for m in months) == expected
    total = sum((m.verified_usd for m in months), Decimal("0.00"))
    assert total == exact_sum(awkward, "verified")  # every fixture receipt is within 24 months


def test_overview(awkward: Database) -> None:
    view = payments.overview(awkward, now=FIXTURE_NOW)
    verified = next(t for t in view.by_status if t.status == "verified")
    assert view.average_receipt_usd == (verified.total_usd / verified.receipts).quantize(
        Decimal("0.01")
    )
    assert view.pending == scalar(
        awkward, "SELECT COUNT(*) FROM payment_receipts WHERE status = 'pending'"
    )
    assert view.this_month_usd == payments.by_month(awkward, 1, FIXTURE_NOW)[0].verified_usd
    assert view.oldest_pending_age and view.oldest_pending_age > timedelta(0)


NOW = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("12m", datetime(2025, 11, 1, tzinfo=UTC)),
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T08:00:00+02:00", datetime(2026, 1, 31, 6, tzinfo=UTC)),
    ],
)
def test_windows(spec: str, expected: datetime) -> None:
    assert parse_since(spec, NOW) == expected


@pytest.mark.parametrize("spec", ["yesterday", "", "7x", "-3d", "2027-01-01", "99999d"])
def test_bad_windows_are_refused(spec: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_since(spec, NOW)
    assert caught.value.field == "--since"


def test_the_list_pages_through_every_receipt_once(db: Database) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = payments.list_payments(db, after=after, limit=7)
        seen += [r.id for r in page.rows]
        if page.after is None:
            break
        after = page.after
    assert len(seen) == len(set(seen)) == scalar(db, "SELECT COUNT(*) FROM payment_receipts")
    stamps = [r.created_at for r in payments.list_payments(db, limit=10_000).rows]
    assert stamps == sorted(stamps, reverse=True)


def test_the_list_filters(awkward: Database) -> None:
    verified = payments.list_payments(awkward, status="verified", limit=10_000).rows
    assert verified and all(r.status == "verified" for r in verified)
    found = payments.list_payments(awkward, search="awk-", limit=10_000).rows
    assert sorted(r.bmc_reference for r in found) == sorted(f"AWK-{n}" for n in range(7))
    assert payments.list_payments(awkward, search="awk%", limit=10).rows == ()  # % is literal
    recent = payments.list_payments(awkward, since=FIXTURE_NOW - timedelta(days=2)).rows
    assert {r.bmc_reference for r in recent} >= {"AWK-0", "AWK-1"}
    with pytest.raises(InputError, match="--status"):
        payments.list_payments(awkward, status="paid")
