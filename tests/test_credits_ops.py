"""Credit grants, verification and refunds: exact money, one transaction, safe under concurrency."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from adminui import audit
from adminui.db import ConnectionLostError, Database
from adminui.errors import DatabaseError, InputError, NotFoundError, ReadOnlyError
from adminui.ops import credits
from tests.conftest import (
    PG_PASSWORD,
    execute,
    lone_pending_receipt,
    raw_engine,
    scalar,
    with_registry,
)

OPERATOR = "jordan"


def parse(credits_: object = 5, amount: object = "5.00", ref: object = "BMC-NEW-1", **kw):
    return credits.parse_grant(credits_, amount, ref, max_credits=10_000, **kw)  # type: ignore[arg-type]


def counts(db: Database) -> tuple[object, object]:
    return (
        scalar(db, "SELECT COUNT(*) FROM payment_receipts"),
        scalar(db, "SELECT SUM(paid_credits_remaining) FROM usage_tracking"),
    )


def a_user(db: Database) -> str:
    return str(scalar(db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("credits", {"credits_": 0}),
        ("credits", {"credits_": -1}),
        ("credits", {"credits_": 10**12}),
        ("credits", {"credits_": "abc"}),
        ("credits", {"credits_": "1.5"}),
        ("amount_usd", {"amount": "1.005"}),
        ("amount_usd", {"amount": "-3"}),
        ("amount_usd", {"amount": "NaN"}),
        ("amount_usd", {"amount": "1e9"}),
        ("amount_usd", {"amount": "abc"}),
        ("amount_usd", {"amount": ""}),
        ("amount_usd", {"amount": "100000000.00"}),
        ("bmc_reference", {"ref": ""}),
        ("bmc_reference", {"ref": None}),
        ("bmc_reference", {"ref": "BMC\x00-1"}),
        ("notes", {"notes": "x" * 10_000}),
        ("notes", {"notes": "nul\x00byte"}),
        ("override reason", {"override_reason": "y" * 501}),
    ],
)
def test_bad_input_is_refused_naming_the_field(field: str, kwargs: dict) -> None:
    with pytest.raises(InputError) as caught:
        parse(**kwargs)
    assert caught.value.field == field


def test_money_is_decimal_to_two_places() -> None:
    assert parse(amount="0.1").amount_usd == Decimal("0.10")
    assert parse(amount="$999999.99").amount_usd == Decimal("999999.99")
    assert parse(amount=Decimal("7")).amount_usd == Decimal("7.00")


def test_a_grant_writes_one_receipt_and_exactly_the_credits(db: Database) -> None:
    user_id = a_user(db)
    grant = parse(credits_=7, amount="6.50", notes="Coffee x2")
    preview = credits.preview_grant(db, user_id, grant)
    receipts_before, paid_before = counts(db)
    result = credits.grant_credits(db, user_id, grant, OPERATOR)
    assert counts(db) == (receipts_before + 1, paid_before + 7)
    assert (result.previous_total, result.new_total) == (preview.before.total, preview.after.total)
    row = (
        raw_engine(db)
        .connect()
        .execute(
            text(
                "SELECT amount_usd, credits_purchased, status, verified_by, bmc_reference, notes "
                "FROM payment_receipts WHERE id = :id"
            ),
            {"id": result.receipt_id},
        )
        .one()
    )
    assert (Decimal(str(row[0])), *row[1:]) == (
        Decimal("6.50"),
        7,
        "verified",
        OPERATOR,
        "BMC-NEW-1",
        "Coffee x2",
    )
    assert result.amount_usd == Decimal("6.50") and result.verified_by == OPERATOR


def test_a_reused_reference_is_refused_unless_overridden(db: Database) -> None:
    existing = str(scalar(db, "SELECT bmc_reference FROM payment_receipts LIMIT 1"))
    user_id = a_user(db)
    reused = parse(ref=f"  {existing.lower()} ")
    preview = credits.preview_grant(db, user_id, reused)
    assert preview.needs_override and len(preview.duplicate_ids) == 1
    before = counts(db)
    with pytest.raises(InputError, match="already on 1 receipt"):
        credits.grant_credits(db, user_id, reused, OPERATOR)
    overridden = parse(ref=existing, override_reason="second coffee, same BMC id")
    with pytest.raises(InputError, match="changed since the preview"):  # duplicates not seen
        credits.grant_credits(db, user_id, overridden, OPERATOR)
    assert counts(db) == before
    result = credits.grant_credits(
        db, user_id, overridden, OPERATOR, seen_duplicates=preview.duplicate_ids
    )
    assert "second coffee, same BMC id" in (result.notes or "")
    assert counts(db)[0] == before[0] + 1


def test_verifying_a_receipt_whose_reference_was_granted_needs_an_override(db: Database):
    pending = credits.pending_receipts(db)[0]
    user_id = a_user(db)
    with raw_engine(db).begin() as conn:  # the same payment, granted by hand meanwhile
        conn.execute(
            text(
                "INSERT INTO payment_receipts (id, user_id, amount_usd, "
                "credits_purchased, bmc_reference, status) VALUES "
                "('00000000-0000-4000-8000-0000000000aa', :u, 5, 5, :r, 'verified')"
            ),
            {"u": user_id, "r": pending.bmc_reference},
        )
    preview = credits.preview_verify(db, pending.id)
    assert [d.id for d in preview.duplicates] == ["00000000-0000-4000-8000-0000000000aa"]
    with pytest.raises(InputError, match="already on 1 receipt"):
        credits.verify_receipt(db, pending.id, OPERATOR)
    change = credits.verify_receipt(
        db,
        pending.id,
        OPERATOR,
        override_reason="two payments",
        seen_duplicates=preview.duplicate_ids,
    )
    assert change.receipt.status == "verified" and "two payments" in (change.receipt.notes or "")


def test_a_user_without_usage_tracking_can_be_granted(db: Database) -> None:
    user_id = str(
        scalar(
            db, "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM usage_tracking) LIMIT 1"
        )
    )
    preview = credits.preview_grant(db, user_id, parse(credits_=10))
    assert not preview.before.exists and preview.after.total == 15
    result = credits.grant_credits(db, user_id, parse(credits_=10), OPERATOR)
    assert (result.previous_total, result.new_total) == (5, 15)


def test_an_unknown_user_is_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError):
        credits.grant_credits(db, "00000000-0000-4000-8000-000000000000", parse(), OPERATOR)


def test_a_read_only_profile_refuses_before_the_database(db: Database) -> None:
    read_only = with_registry(db, db.registry, read_only=True)
    before = counts(db)
    with pytest.raises(ReadOnlyError):
        credits.grant_credits(read_only, a_user(db), parse(), OPERATOR)
    read_only.dispose()
    assert counts(db) == before


def test_every_write_leaves_an_audit_line(db: Database) -> None:
    result = credits.grant_credits(db, a_user(db), parse(credits_=3), OPERATOR)
    [entry] = audit.writes()
    assert entry["operation"] == "grant" and entry["operator"] == OPERATOR
    assert entry["outcome"] == "committed"
    assert entry["ids"] == {"receipt_id": result.receipt_id}
    assert entry["after"]["total"] - entry["before"]["total"] == 3
    assert entry["inputs"]["amount_usd"] == "5.00"
    assert PG_PASSWORD not in audit.audit_path().read_text()


def test_verify_grants_a_pending_receipt_once(db: Database) -> None:
    pending = credits.pending_receipts(db)
    assert pending and [p.created_at for p in pending] == sorted(p.created_at for p in pending)
    receipt = pending[0]
    _, paid_before = counts(db)
    change = credits.verify_receipt(db, receipt.id, OPERATOR)
    assert change.receipt.status == "verified" and change.receipt.verified_by == OPERATOR
    assert change.credits_changed == receipt.credits_purchased
    assert counts(db)[1] == paid_before + receipt.credits_purchased
    with pytest.raises(InputError, match="is verified, not pending"):
        credits.verify_receipt(db, receipt.id, OPERATOR)


def test_a_pending_receipt_whose_user_is_gone_grants_nothing(db: Database) -> None:
    """A product database missing the receipt's foreign key (the orphans job exists for such
    rows) may hold a pending receipt of a user deleted since: verifying it would add its
    credits to no one and mark it verified. It is refused, and nothing changes."""
    if db.dialect == "postgresql":
        execute(db, "ALTER TABLE payment_receipts DROP CONSTRAINT payment_receipts_user_id_fkey")
    ghost, receipt_id = str(uuid.uuid4()), str(uuid.uuid4())
    execute(  # SQLite: a plain connection does not enforce foreign keys
        db,
        "INSERT INTO payment_receipts (id, user_id, amount_usd, credits_purchased, "
        "bmc_reference, status) VALUES (:r, :u, 5.00, 50, 'BMC-GONE-1', 'pending')",
        r=receipt_id,
        u=ghost,
    )
    before = counts(db)
    with pytest.raises(NotFoundError, match=f"No user has the id {ghost}"):
        credits.verify_receipt(db, receipt_id, OPERATOR)
    assert counts(db) == before
    assert scalar(db, "SELECT status FROM payment_receipts WHERE id = :r", r=receipt_id) == (
        "pending"
    )
    assert scalar(db, "SELECT COUNT(*) FROM usage_tracking WHERE user_id = :u", u=ghost) == 0


SKIP_UPDATES = {  # a trigger that silently skips every update of the credits row
    "postgresql": (
        "CREATE FUNCTION skip_update() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RETURN NULL; END$$",
        "CREATE TRIGGER skip BEFORE UPDATE ON usage_tracking "
        "FOR EACH ROW EXECUTE FUNCTION skip_update()",
    ),
    "sqlite": (
        "CREATE TRIGGER skip BEFORE UPDATE ON usage_tracking BEGIN SELECT RAISE(IGNORE); END",
    ),
}


def test_credits_that_do_not_land_roll_the_receipt_back(db: Database) -> None:
    """A write checks its credits on the balance it reads back: a product trigger (or anything
    else) that keeps them off the row makes the grant or verify fail whole, not write a
    verified receipt whose credits no one got."""
    for statement in SKIP_UPDATES[db.dialect]:
        execute(db, statement)
    receipt_id = lone_pending_receipt(db)
    before = counts(db)
    with pytest.raises(DatabaseError, match=r"did not take the 5 credits.*nothing was changed"):
        credits.grant_credits(db, a_user(db), parse(), OPERATOR)
    with pytest.raises(DatabaseError, match=r"did not take the .* credits"):
        credits.verify_receipt(db, receipt_id, OPERATOR)
    assert counts(db) == before
    assert scalar(db, "SELECT status FROM payment_receipts WHERE id = :r", r=receipt_id) == (
        "pending"
    )


def test_refund_takes_back_the_credits_and_records_why(db: Database) -> None:
    granted = credits.grant_credits(db, a_user(db), parse(credits_=4, ref="BMC-R1"), OPERATOR)
    preview = credits.preview_refund(db, granted.receipt_id)
    assert (preview.take_back, preview.shortfall) == (4, 0)
    change = credits.refund_receipt(db, granted.receipt_id, "charged back", OPERATOR)
    assert change.credits_changed == -4 and change.new_total == granted.previous_total
    assert change.receipt.status == "refunded" and "charged back" in (change.receipt.notes or "")
    with pytest.raises(InputError, match="already refunded"):
        credits.refund_receipt(db, granted.receipt_id, "again", OPERATOR)


def test_refund_of_spent_credits_needs_a_second_confirmation(db: Database) -> None:
    user_id = a_user(db)
    granted = credits.grant_credits(db, user_id, parse(credits_=10, ref="BMC-R2"), OPERATOR)
    with raw_engine(db).begin() as conn:  # the user spends all but 3 paid credits
        conn.execute(
            text("UPDATE usage_tracking SET paid_credits_remaining = 3 WHERE user_id = :u"),
            {"u": user_id},
        )
    preview = credits.preview_refund(db, granted.receipt_id)
    assert (preview.take_back, preview.shortfall, preview.after.paid) == (3, 7, 0)
    with pytest.raises(InputError, match="already spent 7"):
        credits.refund_receipt(db, granted.receipt_id, "fraud", OPERATOR)
    assert (
        scalar(db, "SELECT status FROM payment_receipts WHERE id = :i", i=granted.receipt_id)
        == "verified"
    )
    change = credits.refund_receipt(
        db, granted.receipt_id, "fraud", OPERATOR, accept_shortfall=True
    )
    assert change.credits_changed == -3
    assert (
        scalar(
            db, "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u", u=user_id
        )
        == 0
    )


def test_a_pending_receipt_is_refunded_without_credit_change(db: Database) -> None:
    receipt = credits.pending_receipts(db)[0]
    before = counts(db)
    change = credits.refund_receipt(db, receipt.id, "never arrived", OPERATOR)
    assert change.credits_changed == 0 and change.receipt.status == "refunded"
    assert counts(db) == before


def _concurrently(jobs: list) -> list[object]:
    results: list[object] = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except Exception as error:  # collected and checked by the test
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_operators_with_one_new_reference_make_one_receipt(pg_db: Database) -> None:
    user_id = a_user(pg_db)
    databases = [with_registry(pg_db, pg_db.registry) for _ in range(20)]
    outcomes = _concurrently(
        [
            lambda d=d: credits.grant_credits(d, user_id, parse(ref="BMC-RACE"), OPERATOR)
            for d in databases
        ]
    )
    for d in databases:
        d.dispose()
    granted = [o for o in outcomes if isinstance(o, credits.GrantResult)]
    refused = [o for o in outcomes if isinstance(o, InputError)]
    assert len(granted) == 1 and len(refused) == 19, outcomes
    assert (
        scalar(pg_db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-RACE'") == 1
    )


def test_twenty_concurrent_grants_to_one_user_lose_no_update(pg_db: Database) -> None:
    user_id = a_user(pg_db)
    paid = "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u"
    before = scalar(pg_db, paid, u=user_id)
    databases = [with_registry(pg_db, pg_db.registry) for _ in range(20)]
    outcomes = _concurrently(
        [
            lambda d=d, n=n: credits.grant_credits(
                d, user_id, parse(credits_=n, ref=f"BMC-P{n}"), OPERATOR
            )
            for n, d in enumerate(databases, start=1)
        ]
    )
    for d in databases:
        d.dispose()
    assert all(isinstance(o, credits.GrantResult) for o in outcomes), outcomes
    assert scalar(pg_db, paid, u=user_id) == before + sum(range(1, 21))
    # Each grant saw totals no other grant moved between its read and its write.
    assert all(o.new_total - o.previous_total == o.credits for o in outcomes)
    free = scalar(
        pg_db, "SELECT free_expansions_remaining FROM usage_tracking WHERE user_id = :u", u=user_id
    )
    assert min(o.previous_total for o in outcomes) == free + before


def test_a_connection_killed_mid_grant_writes_nothing(pg_db: Database) -> None:
    user_id = a_user(pg_db)
    before = counts(pg_db)
    killer = raw_engine(pg_db)

    def kill_the_grant() -> None:
        with killer.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'adminui' AND state = 'idle in transaction'"
                )
            )

    with pytest.raises(ConnectionLostError, match="nothing was changed"):
        credits.grant_credits(
            pg_db, user_id, parse(ref="BMC-KILL"), OPERATOR, before_writes=kill_the_grant
        )
    killer.dispose()
    assert counts(pg_db) == before
    assert (
        scalar(pg_db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-KILL'") == 0
    )


def test_a_grant_whose_audit_line_cant_be_written_is_rolled_back(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intent line is written before COMMIT: a log that can't take it stops the write, so
    no committed grant is ever without its line (issue 13: 3 of 3 crashes left none)."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path))  # a directory: opening it fails
    before = counts(db)
    with pytest.raises(audit.AuditError, match="rolled back, nothing was changed"):
        credits.grant_credits(db, a_user(db), parse(ref="BMC-W"), OPERATOR)
    assert counts(db) == before


def test_two_operators_verifying_one_receipt_grant_once(pg_db: Database) -> None:
    receipt = credits.pending_receipts(pg_db)[0]
    paid = "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u"
    before = scalar(pg_db, paid, u=receipt.user_id) or 0
    databases = [with_registry(pg_db, pg_db.registry) for _ in range(8)]
    outcomes = _concurrently(
        [lambda d=d: credits.verify_receipt(d, receipt.id, OPERATOR) for d in databases]
    )
    for d in databases:
        d.dispose()
    assert sum(isinstance(o, credits.ReceiptChange) for o in outcomes) == 1, outcomes
    assert scalar(pg_db, paid, u=receipt.user_id) == before + receipt.credits_purchased


def test_verify_and_refund_leave_audit_lines(db: Database) -> None:
    receipt = credits.pending_receipts(db)[0]
    credits.verify_receipt(db, receipt.id, OPERATOR)
    credits.refund_receipt(db, receipt.id, "chargeback", OPERATOR, accept_shortfall=True)
    lines = audit.writes()
    assert [(x["operation"], x["ids"]["receipt_id"]) for x in lines] == [
        ("verify", receipt.id),
        ("refund", receipt.id),
    ]
    assert lines[0]["inputs"]["credits"] == receipt.credits_purchased
    assert lines[1]["inputs"]["reason"] == "chargeback"
