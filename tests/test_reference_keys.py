# ruff: noqa: RUF001 - references in other scripts are the point of these tests
"""A payment reference is one key however it is typed: the lock, the duplicate check and the
stored value are compared the way the database compares them, so a second grant of one payment
is caught in every script (issue 13: `İ` and word-final `Σ` slipped past a key built by
Python's str.lower while the stored side was PostgreSQL's lower)."""

from __future__ import annotations

import pytest

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops import credits
from tests.conftest import scalar, with_registry
from tests.orphan_rows import change
from tests.test_credits_ops import _concurrently

# References in many scripts, each written the way a second operator might type it again.
REFERENCES = {
    "REL-İ-1": ["rel-i-1", "REL-İ-1 "],  # Turkish dotted capital I
    "ΣΟΦΙΑΣ-2": ["σοφιασ-2", "ΣΟΦΙΑΣ-2"],  # Greek, word-final capital sigma
    "STRASSE-ß-3": ["strasse-ß-3"],  # German sharp s (lower keeps it)
    "МОСКВА-4": ["москва-4"],  # Cyrillic
    "ԱՐԱՐԱՏ-5": ["արարատ-5"],  # Armenian
    "ᏣᎳᎩ-6": ["ꮳꮃꭹ-6"],  # Cherokee: lower-case letters sit in another block
    "𐐀𐐁-7": ["𐐨𐐩-7"],  # Deseret, outside the Basic Multilingual Plane
    "CAFÉ-9": ["café-9"],  # Latin with a precomposed accent
}


def a_user(db: Database) -> str:
    return str(scalar(db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))


def grant(db: Database, user_id: str, reference: str) -> credits.GrantResult:
    parsed = credits.parse_grant(5, "5.00", reference, max_credits=10_000)
    return credits.grant_credits(db, user_id, parsed, "jordan")


@pytest.mark.parametrize("reference", list(REFERENCES))
def test_a_reference_granted_once_is_refused_however_it_is_retyped(
    db: Database, reference: str
) -> None:
    user_id = a_user(db)
    paid = "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u"
    before = scalar(db, paid, u=user_id)
    grant(db, user_id, reference)
    for retyped in [reference, *REFERENCES[reference]]:
        parsed = credits.parse_grant(5, "5.00", retyped, max_credits=10_000)
        assert credits.preview_grant(db, user_id, parsed).needs_override, retyped
        with pytest.raises(InputError, match="already on 1 receipt"):
            credits.grant_credits(db, user_id, parsed, "jordan")
    receipts = "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = :r"
    assert scalar(db, receipts, r=reference) == 1
    assert scalar(db, paid, u=user_id) == before + 5


def test_a_pending_receipt_blocks_a_grant_of_its_reference_in_another_case(
    db: Database,
) -> None:
    pending = str(scalar(db, "SELECT id FROM payment_receipts WHERE status = 'pending' LIMIT 1"))
    change(
        db, "UPDATE payment_receipts SET bmc_reference = 'ΣΟΦΙΑΣ-PENDİNG' WHERE id = :i", i=pending
    )
    parsed = credits.parse_grant(5, "5.00", "σοφιασ-pending", max_credits=10_000)
    user_id = a_user(db)
    assert [d.id for d in credits.preview_grant(db, user_id, parsed).duplicates] == [pending]
    with pytest.raises(InputError, match="already on 1 receipt"):
        credits.grant_credits(db, user_id, parsed, "jordan")


@pytest.mark.parametrize(
    ("looks_like", "typed", "named"),
    [
        ("Café-1", "Cafe\u0301-1", "COMBINING ACUTE ACCENT"),
        ("BMC-2", "BMC-2\u200b", "ZERO WIDTH SPACE"),
        ("BMC-3", "\ufeffBMC-3", "ZERO WIDTH NO-BREAK SPACE"),
        ("BMC-4", "BMC\u200e-4", "LEFT-TO-RIGHT MARK"),
        ("BMC-5", "BMC\u00ad-5", "SOFT HYPHEN"),
        ("BMC 6", "BMC\u00a06", "NO-BREAK SPACE"),
        ("BMC-7", "ＢＭＣ-７", "FULLWIDTH LATIN CAPITAL LETTER B"),
        ("KELVIN-K-8", "KELVIN-\u212a-8", "KELVIN SIGN"),
    ],
)
def test_a_reference_that_only_looks_like_another_is_refused_naming_the_character(
    db: Database, looks_like: str, typed: str, named: str
) -> None:
    """9 of 10 such pairs were granted twice (issue 13 review): they are other keys to the
    database, so they are refused as typed, with the character named; nothing is written."""
    grant(db, a_user(db), looks_like)
    with pytest.raises(InputError) as refused:
        credits.parse_grant(5, "5.00", typed, max_credits=10_000)
    assert refused.value.field == "bmc_reference" and named in str(refused.value)


def test_operators_racing_with_one_reference_in_different_cases_make_one_receipt(
    pg_db: Database,
) -> None:
    """The advisory lock's key is the database's fold too: concurrent grants of `REL-İ-RACE`,
    `rel-i-race`, ... wait on one lock, so only the first passes the duplicate check."""
    spellings = ["REL-İ-RACE", "rel-i-race", "Rel-İ-Race ", "REL-I-RACE", "rel-İ-race"] * 2
    user_id = a_user(pg_db)
    databases = [with_registry(pg_db, pg_db.registry) for _ in spellings]
    outcomes = _concurrently(
        [lambda d=d, s=s: grant(d, user_id, s) for d, s in zip(databases, spellings, strict=True)]
    )
    for d in databases:
        d.dispose()
    granted = [o for o in outcomes if isinstance(o, credits.GrantResult)]
    assert len(granted) == 1, outcomes
    assert all(isinstance(o, InputError) for o in outcomes if o is not granted[0])
    folded = "SELECT COUNT(*) FROM payment_receipts WHERE lower(bmc_reference) = 'rel-i-race'"
    assert scalar(pg_db, folded) == 1


def test_a_product_index_on_lower_is_neither_missed_nor_corrupted(sqlite_db: Database) -> None:
    """adminui replaced SQLite's lower() on its connections: an expression index of the
    product on lower(trim(bmc_reference)) then answered the duplicate check with the product's
    keys (0 duplicates for the identical reference: a double grant), and adminui's insert
    stored its own keys in that index (integrity_check: row missing from index)."""
    change(
        sqlite_db,
        "CREATE INDEX receipts_ref_key ON payment_receipts (lower(trim(bmc_reference)))",
    )
    receipt = str(scalar(sqlite_db, "SELECT id FROM payment_receipts LIMIT 1"))
    change(
        sqlite_db,
        "UPDATE payment_receipts SET bmc_reference = 'BMC-ÉTÉ-1' WHERE id = :i",
        i=receipt,
    )
    user_id = a_user(sqlite_db)
    parsed = credits.parse_grant(5, "5.00", "BMC-ÉTÉ-1", max_credits=10_000)
    assert [d.id for d in credits.preview_grant(sqlite_db, user_id, parsed).duplicates] == [receipt]
    with pytest.raises(InputError, match="already on 1 receipt"):
        credits.grant_credits(sqlite_db, user_id, parsed, "jordan")
    grant(sqlite_db, user_id, "BMC-ÅNGSTRÖM-2")
    assert scalar(sqlite_db, "PRAGMA integrity_check") == "ok"


def test_a_better_matching_overload_in_the_product_schema_is_not_called(pg_db: Database) -> None:
    """The pinned path puts pg_catalog first, but a function taking the literal's exact type
    (hashtextextended(text, integer) against pg_catalog's (text, bigint)) still matched
    better: planted in public, it ran in every grant (+1,000,000 credits to another user in
    the review) and handed out its own lock keys. The statement is qualified and cast."""
    change(pg_db, "CREATE TABLE tripwire (called_at timestamptz DEFAULT now())")
    change(
        pg_db,
        "CREATE FUNCTION public.hashtextextended(text, integer) RETURNS bigint "
        "LANGUAGE sql AS $$ INSERT INTO tripwire DEFAULT VALUES RETURNING 42::bigint $$",
    )
    grant(pg_db, a_user(pg_db), "BMC-OVERLOAD-1")
    assert scalar(pg_db, "SELECT COUNT(*) FROM tripwire") == 0
