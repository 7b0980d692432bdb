"""`adminui grant` and `adminui receipts`: the seed's steps, JSON for scripts, refusals exit 1."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from adminui.cli import main
from adminui.db import Database
from adminui.ops import credits
from tests.conftest import raw_engine, run, scalar

RECEIPTS = "SELECT COUNT(*) FROM payment_receipts"


def an_email(db: Database) -> str:
    return str(
        scalar(
            db,
            "SELECT u.email FROM users u JOIN usage_tracking t ON t.user_id = u.id "
            "ORDER BY u.email LIMIT 1",
        )
    )


def test_grant_prints_the_seed_steps_and_summary(db: Database, url: str, capsys) -> None:
    before = scalar(db, RECEIPTS)
    code, out, _ = run(
        capsys, "grant", an_email(db), "5", "5.00", "--ref", "BMC-12345", "--yes", "--url", url
    )
    assert code == 0
    for line in (
        "💳 Processing credit grant...",
        "Step 1: Looking up user...",
        "Step 2: Getting current credits...",
        "Step 3: Creating payment receipt...",
        "✅ Payment receipt created",
        "Step 4: Verifying...",
        "✅ Verification successful",
        "✨ Credits granted successfully!",
    ):
        assert line in out
    receipt_id = next(x.split()[-1] for x in out.splitlines() if x.startswith("Receipt ID:"))
    assert scalar(db, RECEIPTS) == before + 1
    assert (
        scalar(db, "SELECT credits_purchased FROM payment_receipts WHERE id = :i", i=receipt_id)
        == 5
    )


def test_grant_as_json_is_one_object(db: Database, url: str, capsys) -> None:
    email = an_email(db)
    code, out, err = run(
        capsys,
        "grant",
        email,
        "3",
        "2.50",
        "--ref",
        "BMC-J1",
        "--yes",
        "--format",
        "json",
        "--url",
        url,
    )
    result = json.loads(out)
    assert code == 0 and "Step 1" in err
    assert {
        "receipt_id",
        "email",
        "credits",
        "amount_usd",
        "bmc_reference",
        "previous_total",
        "new_total",
    } <= set(result)
    assert (result["email"], result["credits"], result["amount_usd"]) == (email, 3, "2.50")
    assert result["new_total"] == result["previous_total"] + 3


def test_without_a_terminal_or_yes_it_refuses(db: Database, url: str, capsys) -> None:
    before = scalar(db, RECEIPTS)
    code, _, err = run(
        capsys, "grant", an_email(db), "5", "5.00", "--ref", "BMC-NOYES", "--url", url
    )
    assert code == 1 and "pass --yes to write" in err
    assert scalar(db, RECEIPTS) == before


def test_a_reused_reference_needs_an_override(db: Database, url: str, capsys) -> None:
    existing = str(scalar(db, "SELECT bmc_reference FROM payment_receipts LIMIT 1"))
    email = an_email(db)
    code, out, err = run(
        capsys, "grant", email, "5", "5.00", "--ref", existing, "--yes", "--url", url
    )
    assert code == 1 and "already on 1 receipt" in out and "--override-duplicate" in err
    code, out, _ = run(
        capsys,
        "grant",
        email,
        "5",
        "5.00",
        "--ref",
        existing,
        "--yes",
        "--override-duplicate",
        "a second payment",
        "--format",
        "json",
        "--url",
        url,
    )
    assert code == 0 and "a second payment" in json.loads(out)["notes"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["0", "5.00"], "credits: must be from 1 to 10,000 (max_grant_credits), not 0"),
        (["20000", "5.00"], "credits: must be from 1 to 10,000 (max_grant_credits), not 20,000"),
        (["5", "0"], "amount (USD): must be more than 0.00"),
        (["abc", "5.00"], "credits: must be a whole number"),
        (["5", "1.005"], "amount (USD): write dollars and cents"),
        (["5", "NaN"], "amount (USD): write dollars and cents"),
    ],
)
def test_bad_input_exits_1_before_connecting(capsys, argv: list[str], expected: str) -> None:
    code, out, err = run(
        capsys,
        "grant",
        "a@example.com",
        *argv,
        "--ref",
        "BMC-1",
        "--yes",
        "--url",
        "postgresql://nobody@127.0.0.1:1/none",
    )
    assert (code, out) == (1, "") and expected in err


def test_an_unknown_email_exits_1_and_writes_nothing(db: Database, url: str, capsys) -> None:
    before = scalar(db, RECEIPTS)
    code, _, err = run(
        capsys, "grant", "ghost@example.com", "5", "5.00", "--ref", "BMC-G", "--yes", "--url", url
    )
    assert code == 1 and "No user has the email 'ghost@example.com'" in err
    assert scalar(db, RECEIPTS) == before


def test_the_configured_maximum_applies(
    db: Database, url: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'max_grant_credits = 50\n[profiles.p]\nurl = "{_no_password(url)}"\n')
    monkeypatch.setenv("ADMINUI_PASSWORD", "fixture-only-password")
    code, out, err = run(
        capsys,
        "grant",
        an_email(db),
        "51",
        "5.00",
        "--ref",
        "BMC-MAX",
        "--yes",
        "--config",
        str(config),
    )
    assert code == 1 and "from 1 to 50 (max_grant_credits), not 51" in err
    assert out == ""  # refused before a step was taken: one limit, checked once


def _no_password(url: str) -> str:
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split(':', 1)[0]}@{rest.split('@', 1)[1]}"


def test_pending_verify_and_refund(db: Database, url: str, capsys) -> None:
    code, out, _ = run(capsys, "receipts", "pending", "--format", "json", "--url", url)
    pending = json.loads(out)
    assert code == 0 and len(pending) == len(credits.pending_receipts(db))
    receipt = pending[0]
    code, out, _ = run(
        capsys, "receipts", "verify", receipt["id"], "--yes", "--format", "json", "--url", url
    )
    change = json.loads(out)
    assert code == 0 and change["status"] == "verified"
    assert change["credits_changed"] == receipt["credits_purchased"]
    code, out, _ = run(
        capsys, "receipts", "refund", receipt["id"], "--reason", "chargeback", "--yes", "--url", url
    )
    assert code == 0 and f"✅ Refunded {receipt['id']}" in out
    assert "chargeback" in str(
        scalar(db, "SELECT notes FROM payment_receipts WHERE id = :i", i=receipt["id"])
    )


def test_a_refund_with_a_shortfall_needs_accept_shortfall(db: Database, url: str, capsys) -> None:
    receipt = credits.pending_receipts(db)[0]
    credits.verify_receipt(db, receipt.id, "t")
    with raw_engine(db).begin() as conn:
        conn.execute(
            text("UPDATE usage_tracking SET paid_credits_remaining = 0 WHERE user_id = :u"),
            {"u": receipt.user_id},
        )
    code, _, err = run(
        capsys, "receipts", "refund", receipt.id, "--reason", "x", "--yes", "--url", url
    )
    assert code == 1 and "pass --accept-shortfall" in err
    assert credits.get_receipt(db, receipt.id).status == "verified"  # nothing written
    code, _, _ = run(
        capsys,
        "receipts",
        "refund",
        receipt.id,
        "--reason",
        "x",
        "--yes",
        "--accept-shortfall",
        "--url",
        url,
    )
    assert code == 0


def test_a_read_only_profile_refuses_writes(
    db: Database, url: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.ro]\nurl = "{_no_password(url)}"\nread_only = true\n')
    monkeypatch.setenv("ADMINUI_PASSWORD", "fixture-only-password")
    before = scalar(db, RECEIPTS)
    code, _, err = run(
        capsys,
        "grant",
        an_email(db),
        "5",
        "5.00",
        "--ref",
        "BMC-RO",
        "--yes",
        "--config",
        str(config),
    )
    assert code == 1 and "read-only" in err
    assert scalar(db, RECEIPTS) == before
    assert main(["receipts", "pending", "--config", str(config)]) == 0


def test_every_write_as_csv_is_one_record_and_nothing_else(db: Database, url: str, capsys) -> None:
    """`--format csv` printed grant's step log (issue 14.2): stdout is data only, the steps
    go to stderr."""
    receipt = credits.pending_receipts(db)[0]
    for argv, key in (
        (["grant", an_email(db), "3", "2.50", "--ref", "BMC-CSV-1"], "receipt_id"),
        (["receipts", "verify", receipt.id], "receipt_id"),
        (["receipts", "refund", receipt.id, "--reason", "chargeback"], "receipt_id"),
    ):
        code, out, err = run(capsys, *argv, "--yes", "--format", "csv", "--url", url)
        assert code == 0, err
        [record] = list(csv.DictReader(io.StringIO(out)))
        assert record[key] and "✅" not in out and "Step" not in out
