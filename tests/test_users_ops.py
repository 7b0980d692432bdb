"""User lookup on both dialects, checked against an independent reading of the same tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops import users
from tests.conftest import raw_engine, scalar

BASE = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
SPECIAL = [
    ("Percent%Sign@Example.com", "Per Cent"),
    ("under_score@example.com", "Under Score"),
    ("plain.person@example.com", "Zoë 🚀 Rocket"),
    ("back\\slash@example.com", None),
    ("elodie.durand@example.com", "Élodie Durand"),
]


@pytest.fixture
def seeded(db: Database) -> dict[str, str]:
    """The fixture data plus users with LIKE metacharacters, an emoji and a known reference."""
    ids = {}
    with db.write() as tx:
        for n, (email, name) in enumerate(SPECIAL):
            ids[email] = str(uuid.UUID(int=n + 1, version=4))
            tx.run(
                "insert_user",
                id=ids[email],
                email=email,
                name=name,
                timezone="UTC",
                created_at=BASE + timedelta(minutes=n),
            )
        tx.run(
            "insert_receipt",
            id=str(uuid.uuid4()),
            user_id=ids["plain.person@example.com"],
            amount_usd=Decimal("5.00"),
            credits_purchased=5,
            bmc_reference="BMC-Unique-77",
            notes=None,
            verified_by="t",
            status="verified",
            created_at=BASE,
            verified_at=BASE,
        )
    return ids


def oracle(db: Database, needle: str) -> list[str]:
    """Emails of users matching `needle` by the documented rules, computed in Python."""
    engine = raw_engine(db)
    with engine.connect() as conn:
        people = conn.execute(text("SELECT id, email, name, created_at FROM users")).all()
        refs = conn.execute(text("SELECT user_id, bmc_reference FROM payment_receipts")).all()
    engine.dispose()
    lowered = needle.lower()
    by_ref = {str(u) for u, ref in refs if ref and lowered in ref.lower()}
    digits = lowered.replace("-", "")
    hits = [
        p
        for p in people
        if lowered in p.email.lower()
        or (p.name and lowered in p.name.lower())
        or str(p.id) in by_ref
        or (
            len(digits) >= 4
            and str(p.id).replace("-", "").startswith(digits)
            and all(c in "0123456789abcdef" for c in digits)
        )
    ]
    hits.sort(key=lambda p: (str(p.created_at), str(p.id)), reverse=True)
    return [p.email for p in hits]


@pytest.mark.parametrize(
    "needle",
    [
        "PERCENT",
        "t%s",
        "t%S",
        "r_s",
        "e_s",
        "k\\s",
        "🚀 rocket",
        "zoë",
        "ÉLODIE",
        "élodie",
        "bmc-unique-77",
        "lovelace",
        "EXAMPLE.COM",
        "00000000-0000-4000-8000-00000000000",
    ],
)
def test_search_matches_the_documented_rules(db: Database, seeded: dict, needle: str) -> None:
    expected = oracle(db, needle)
    found = users.find_users(db, needle, limit=1000)
    assert [row.email for row in found.rows] == expected
    assert not found.capped


def test_percent_and_underscore_are_literal(db: Database, seeded: dict) -> None:
    assert [r.email for r in users.find_users(db, "t%s").rows] == ["Percent%Sign@Example.com"]
    assert [r.email for r in users.find_users(db, "r_s").rows] == ["under_score@example.com"]


def test_an_id_prefix_and_a_full_id_find_the_user(db: Database, seeded: dict) -> None:
    some_id = str(scalar(db, "SELECT id FROM users ORDER BY email LIMIT 1"))
    assert some_id in [r.id for r in users.find_users(db, some_id[:6].upper()).rows]
    assert [r.id for r in users.find_users(db, some_id).rows] == [some_id]


def test_a_capped_list_says_so(db: Database) -> None:
    found = users.find_users(db, "example", limit=3)
    assert len(found.rows) == 3 and found.capped
    assert found.describe() == "3 of more than 3 users"


@pytest.mark.parametrize("needle", ["", " ", "a", "ab", " ab "])
def test_a_too_short_search_is_a_hint_not_a_scan(db: Database, needle: str) -> None:
    with pytest.raises(InputError, match="search: type at least 3 characters"):
        users.find_users(db, needle)


@pytest.mark.parametrize(
    "needle", ["x" * 500, "nul\x00byte", "'; DROP TABLE users;--", "😀😀😀", "\\%_\\"]
)
def test_hostile_searches_return_the_right_empty_result(db: Database, needle: str) -> None:
    before = scalar(db, "SELECT COUNT(*) FROM users")
    assert users.find_users(db, needle).rows == ()
    assert scalar(db, "SELECT COUNT(*) FROM users") == before


def test_recent_users_are_newest_first(db: Database) -> None:
    recent = users.recent_users(db, 10)
    stamps = [r.created_at for r in recent.rows]
    assert stamps == sorted(stamps, reverse=True)
    newest = scalar(db, "SELECT email FROM users ORDER BY created_at DESC, id DESC LIMIT 1")
    assert recent.rows[0].email == newest and recent.capped


def test_detail_agrees_with_the_tables(db: Database) -> None:
    user_id = str(
        scalar(db, "SELECT user_id FROM executions GROUP BY user_id ORDER BY COUNT(*) DESC LIMIT 1")
    )
    d = users.get_user_detail(db, user_id)
    q = {"u": user_id}
    assert d.ideas == scalar(db, "SELECT COUNT(*) FROM ideas WHERE user_id = :u", **q)
    assert d.outputs == scalar(db, "SELECT COUNT(*) FROM outputs WHERE user_id = :u", **q)
    for status, field in (
        ("completed", "successful"),
        ("failed", "failed"),
        ("partial", "partial"),
        ("running", "running"),
    ):
        assert getattr(d, field) == scalar(
            db, "SELECT COUNT(*) FROM executions WHERE user_id = :u AND status = :s", s=status, **q
        )
    assert d.total_tokens == scalar(
        db, "SELECT COALESCE(SUM(tokens_used), 0) FROM executions WHERE user_id = :u", **q
    )
    assert d.total_executions > 1
    assert len(d.recent_executions) == min(10, d.total_executions)
    starts = [e.started_at for e in d.recent_executions]
    assert starts == sorted(starts, reverse=True)
    assert d.total == d.free_expansions_remaining + d.paid_credits_remaining
    assert len(d.receipts) == scalar(
        db, "SELECT COUNT(*) FROM payment_receipts WHERE user_id = :u", **q
    )


def test_detail_shows_money_exactly(db: Database, seeded: dict) -> None:
    detail = users.get_user_detail(db, seeded["plain.person@example.com"])
    assert [(r.amount_usd, r.bmc_reference) for r in detail.receipts] == [
        (Decimal("5.00"), "BMC-Unique-77")
    ]


def test_a_user_without_usage_tracking_is_shown_as_such(db: Database) -> None:
    user_id = str(
        scalar(
            db, "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM usage_tracking) LIMIT 1"
        )
    )
    detail = users.get_user_detail(db, user_id)
    assert not detail.has_usage_tracking
    assert detail.total is None and detail.free_expansions_remaining is None


def test_resolve_user_by_email_in_any_case_or_by_id(db: Database, seeded: dict) -> None:
    wanted = seeded["under_score@example.com"]
    assert users.resolve_user(db, "UNDER_SCORE@example.com") == wanted
    assert users.resolve_user(db, wanted.upper()) == wanted
    with pytest.raises(NotFoundError, match=r"No user has the email 'nobody@example\.com'"):
        users.resolve_user(db, "nobody@example.com")
    with pytest.raises(NotFoundError):
        users.resolve_user(db, str(uuid.uuid4()))
