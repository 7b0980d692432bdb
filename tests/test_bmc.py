"""Buy Me a Coffee at the source (#18): `bmc show|find`, a grant that reads its payment first
(refused when refunded, already granted under any form of its reference, in another currency,
or of another amount without a reason; one payment, one grant even when two operators race),
and the reconciliation of a window, exceptions first; the same from the dashboard's CSV."""

from __future__ import annotations

import csv
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from adminui.bmc import BmcClient, BmcError
from adminui.bmc_csv import CsvPayments
from adminui.db import Database
from adminui.errors import InputError
from adminui.ops import bmc, credits, users
from tests.bmc_standin import Standin, extra, membership, serving, supporter
from tests.conftest import execute, rows, run, scalar

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def standin(monkeypatch) -> Iterator[Standin]:
    with serving(Standin(per_page=3)) as running:
        monkeypatch.setenv("ADMINUI_BMC_TOKEN", running.token)
        monkeypatch.setenv("ADMINUI_BMC_API", running.url)
        yield running


def someone(db: Database) -> tuple[str, str]:
    """A fixture user: (id, email)."""
    row = rows(db, "SELECT id, email FROM users ORDER BY email LIMIT 1")[0]
    return str(row["id"]), str(row["email"])


def receipt(
    db: Database, user_id: str, reference: str, status: str, amount: str, days: int
) -> None:
    """A receipt written behind the app's back, `days` ago."""
    at = NOW - timedelta(days=days)
    execute(
        db,
        "INSERT INTO payment_receipts (id, user_id, amount_usd, credits_purchased, bmc_reference, "
        "status, created_at, verified_by) VALUES (:id, :user, :amount, 5, :ref, :status, :at, 'x')",
        id=str(uuid.uuid4()),
        user=user_id,
        amount=Decimal(amount) if db.dialect == "postgresql" else amount,
        ref=reference,
        status=status,
        at=at if db.dialect == "postgresql" else f"{at:%Y-%m-%d %H:%M:%S}",
    )


def test_show_is_one_request_and_find_pages_by_email(standin: Standin, url: str, capsys) -> None:
    standin.supporters += [
        supporter(10 + n, f"fan{n % 2}@example.com", NOW - timedelta(days=n), coffees=2)
        for n in range(8)
    ]
    code, out, _ = run(capsys, "--url", url, "bmc", "show", "BMC-13", "--format", "json")
    shown = json.loads(out)
    assert code == 0 and len(standin.paths) == 1
    assert (shown["id"], shown["amount"], shown["payer_email"]) == (13, "10.00", "fan1@example.com")
    code, out, _ = run(capsys, "--url", url, "bmc", "find", "FAN0@example.com", "--format", "json")
    assert code == 0 and [p["id"] for p in json.loads(out)] == [10, 12, 14, 16]
    code, _, err = run(capsys, "--url", url, "bmc", "show", "404")
    assert code == 1 and "has no support 404" in err


def test_no_token_and_a_refused_token_are_one_sentence(
    standin: Standin, url: str, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("ADMINUI_BMC_TOKEN")
    code, _, err = run(capsys, "--url", url, "bmc", "show", "1")
    assert code == 2 and "No Buy Me a Coffee token" in err and len(err.splitlines()) == 1
    monkeypatch.setenv("ADMINUI_BMC_TOKEN", "stale")
    code, _, err = run(capsys, "--url", url, "bmc", "show", "1")
    assert code == 2 and "refused the token (HTTP 401)" in err and "stale" not in err


def grant(capsys, url: str, email: str, *extra_args: str) -> tuple[int, str, str]:
    return run(capsys, "--url", url, "grant", email, "10", *extra_args, "--yes")


def test_a_grant_takes_the_payment_s_amount_reference_and_record(
    db: Database, standin: Standin, url: str, capsys
) -> None:
    _, email = someone(db)
    paid = NOW - timedelta(hours=3)
    standin.supporters.append(supporter(245731, email.upper(), paid, coffees=3, price="5.0000"))
    code, out, err = grant(capsys, url, email, "--bmc", "245731", "--notes", "thanks")
    assert code == 0, err
    (row,) = rows(db, "SELECT * FROM payment_receipts WHERE bmc_reference = 'BMC-245731'")
    assert (row["amount_usd"], row["credits_purchased"], row["status"]) == (15, 10, "verified")
    assert row["notes"].startswith(
        f"BMC support 245731: 15.00 USD (3 x 5.0000) from {email.upper()}, "
        f"paid {paid:%Y-%m-%d %H:%M:%S} UTC; fetched "
    )
    assert row["notes"].endswith("\nthanks")
    assert "is not the user's" not in out  # the same address, in another case
    assert standin.paths == ["/api/v1/supporters/245731"]


@pytest.mark.parametrize(
    ("reference", "status"),
    [
        ("bmc 245731", "verified"),
        ("#245731", "refunded"),
        ("245731", "pending"),
        ("pi_000000245731", "verified"),
        ("BMC-0245731", "verified"),
        ("BMC\u2013245731", "verified"),  # an en dash
        ("BMC\u00a0245731", "pending"),  # a no-break space
        ("\uff22\uff2d\uff23-245731", "verified"),  # full-width letters
    ],
)
def test_a_payment_on_any_receipt_in_any_form_grants_no_more(
    db: Database, standin: Standin, url: str, capsys, reference: str, status: str
) -> None:
    user_id, email = someone(db)
    standin.supporters.append(supporter(245731, email, NOW))
    receipt(db, user_id, reference, status, "5.00", 1)
    before = scalar(db, "SELECT COUNT(*) FROM payment_receipts")
    code, _, err = grant(capsys, url, email, "--bmc", "245731")
    assert code == 1 and "one payment grants once" in err and repr(reference) in err
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts") == before


@pytest.mark.parametrize(
    ("payment", "args", "says"),
    [
        ({"refunded": "1"}, (), "was refunded at Buy Me a Coffee"),
        ({"refunded": 1}, (), "was refunded"),
        ({"currency": "EUR"}, (), "paid in EUR; the team sells in USD"),
        ({}, ("4.00",), "4.00 USD is not the payment's 5.00 USD"),
        ({}, ("--override-duplicate", "again"), "one payment grants once"),
        ({}, ("--ref", "BMC-1"), "is not --bmc's BMC-245731"),
    ],
)
def test_what_can_t_grant_is_refused_and_nothing_written(
    db: Database, standin: Standin, url: str, capsys, payment: dict, args: tuple, says: str
) -> None:
    _, email = someone(db)
    standin.supporters.append(supporter(245731, email, NOW, **payment))
    before = scalar(db, "SELECT COUNT(*) FROM payment_receipts")
    code, _, err = grant(capsys, url, email, *args, "--bmc", "245731")
    assert code == 1 and says in err
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts") == before


def test_another_amount_with_a_reason_and_another_payer_with_a_warning(
    db: Database, standin: Standin, url: str, capsys
) -> None:
    _, email = someone(db)
    standin.supporters.append(supporter(7, "someone.else@example.com", NOW))
    code, out, _ = grant(capsys, url, email, "4.00", "--bmc", "7", "--amount-differs", "promo")
    assert code == 0
    assert "The payer's email (someone.else@example.com) is not the user's" in out
    notes = scalar(db, "SELECT notes FROM payment_receipts WHERE bmc_reference = 'BMC-7'")
    assert "Amount 4.00 USD differs: promo." in str(notes)


def test_bmc_down_is_exit_2_unless_the_operator_grants_unread(
    db: Database, standin: Standin, url: str, capsys, monkeypatch
) -> None:
    _, email = someone(db)
    monkeypatch.setenv("ADMINUI_BMC_API", "http://127.0.0.1:9/api/v1")  # nothing listens
    before = scalar(db, "SELECT COUNT(*) FROM payment_receipts")
    code, _, err = grant(capsys, url, email, "--bmc", "31")
    assert code == 2 and "Can't reach Buy Me a Coffee" in err
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts") == before
    code, _, err = grant(capsys, url, email, "--bmc", "31", "--bmc-unread", "BMC is down")
    assert code == 1 and "AMOUNT: required when the payment is not read" in err
    code, _, _ = grant(capsys, url, email, "5.00", "--bmc", "31", "--bmc-unread", "BMC is down")
    assert code == 0
    notes = scalar(db, "SELECT notes FROM payment_receipts WHERE bmc_reference = 'BMC-31'")
    assert str(notes) == "BMC support 31: not checked at Buy Me a Coffee (BMC is down)."


def checked_grant(db: Database, payment_id: int) -> credits.GrantInput:
    """A grant of a payment that passed its checks (the preview)."""
    payment = bmc.Payment(
        "support", payment_id, "Ada", "ada@example.com", Decimal("5.00"), "USD", NOW, False
    )
    checked = bmc.check_for_grant(
        db, payment, payment_id, currencies=("USD",), amount=None, amount_reason=None, fetched=NOW
    )
    grant = credits.parse_grant(5, checked.amount_usd, payment.reference, max_credits=100)
    return bmc.with_payment(grant, checked)


def test_two_operators_granting_one_payment_grant_it_once(pg_db: Database) -> None:
    """Both previewed while the payment was on no receipt; the first holds the lock on its
    reference while it writes, and the second, let in after, finds its receipt."""
    user_id, _ = someone(pg_db)
    grant = checked_grant(pg_db, 99)
    outcomes: list[str] = []

    def operator(name: str) -> None:
        try:
            credits.grant_credits(
                pg_db, user_id, grant, name, before_writes=lambda: time.sleep(0.5)
            )
            outcomes.append("granted")
        except InputError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=operator, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes)[1] == "granted" and "one payment grants once" in sorted(outcomes)[0]
    assert (
        scalar(pg_db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-99'") == 1
    )


def test_a_receipt_of_the_payment_written_since_the_preview_refuses_the_write(
    db: Database,
) -> None:
    """Another operator granted it by hand, under another form of its reference, between this
    grant's preview and its write."""
    user_id, _ = someone(db)
    grant = checked_grant(db, 98)
    receipt(db, user_id, "bmc 98", "verified", "5.00", 0)
    with pytest.raises(InputError, match="written since the preview; one payment grants once"):
        credits.grant_credits(db, user_id, grant, "op")
    assert scalar(db, "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-98'") == 0


def reconcile_world(db: Database, standin: Standin) -> None:
    """A payment and receipts of every kind of exception, and some that are fine."""
    user_id, email = someone(db)
    day = timedelta(days=1)
    standin.supporters += [
        supporter(500001, email, NOW - 2 * day),  # fine
        supporter(500002, "paid@example.com", NOW - 3 * day),  # never granted
        supporter(500003, email, NOW - 4 * day, refunded="1"),  # refunded, still verified
        supporter(500004, email, NOW - 5 * day, coffees=3),  # 15.00 paid, 5.00 on the receipt
        supporter(500005, email, NOW - 6 * day),  # pending here
        supporter(500006, email, NOW - 7 * day),  # granted twice
        supporter(500007, email, NOW - 60 * day),  # paid before the window, granted in it
        supporter(500008, email, NOW - 8 * day, refunded=1),  # refunded, never granted: fine
    ]
    standin.extras.append(extra(77, email, NOW - day, amount="10.00"))
    standin.subscriptions.append(membership(5, email, NOW - 90 * day))
    for reference, status, amount, days in (
        ("BMC-500001", "verified", "5.00", 2),
        ("bmc-500003", "verified", "5.00", 4),
        ("BMC-500004", "verified", "5.00", 5),
        ("BMC-500005", "pending", "5.00", 6),
        ("BMC-500006", "verified", "5.00", 7),
        ("BMC 500006", "verified", "5.00", 6),
        ("BMC-500007", "verified", "5.00", 9),
        ("BMC-999999", "verified", "5.00", 3),  # BMC has no such payment
        ("comp: a gift", "verified", "5.00", 2),  # names no payment
        ("BMC-EXTRA-77", "verified", "10.00", 1),
    ):
        receipt(db, user_id, reference, status, amount, days)


EXPECTED = {
    "paid_not_granted": [500002],
    "refunded_at_bmc": [500003],
    "granted_twice": [500006],
    "no_such_payment": [None, None],
    "amount_differs": [500004],
    "pending_matches": [500005],
}


def test_reconcile_lists_the_exceptions_first(
    db: Database, standin: Standin, url: str, capsys
) -> None:
    reconcile_world(db, standin)
    code, out, err = run(capsys, "--url", url, "bmc", "reconcile", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    found: dict[str, list] = {}
    for match in report["payments"]:
        found.setdefault(match["issue"], []).append(match["payment_id"])
    assert {k: v for k, v in found.items() if k} == EXPECTED
    assert sorted(found[""]) == [77, 500001, 500007, 500008]
    assert list(report["counts"]) == list(bmc.ISSUES)  # the exceptions' order
    assert [p["id"] for p in report["memberships"]] == [5]
    issues = [m["issue"] for m in report["payments"]]
    assert issues == sorted(issues, key=lambda i: list(bmc.ISSUES).index(i) if i else 99)


def test_reconcile_from_the_dashboard_s_csv_needs_no_token(
    db: Database, standin: Standin, url: str, capsys, monkeypatch, tmp_path: Path
) -> None:
    reconcile_world(db, standin)
    monkeypatch.delenv("ADMINUI_BMC_TOKEN")
    path = tmp_path / "supporters.csv"
    with path.open("w", newline="") as handle:  # the export's plain names
        out = csv.writer(handle)
        out.writerow(
            [
                "Support ID",
                "Supporter Name",
                "Email",
                "Coffees",
                "Price",
                "Currency",
                "Date",
                "Refunded",
            ]
        )
        for s in standin.supporters:
            out.writerow(
                [
                    s["support_id"],
                    s["supporter_name"],
                    s["payer_email"],
                    s["support_coffees"],
                    s["support_coffee_price"],
                    s["support_currency"],
                    s["support_created_on"],
                    "yes" if s["is_refunded"] else "",
                ]
            )
    code, out, err = run(
        capsys, "--url", url, "bmc", "reconcile", "--from-csv", str(path), "--format", "json"
    )
    assert code == 0, err
    found: dict[str, list] = {}
    for match in json.loads(out)["payments"]:
        found.setdefault(match["issue"], []).append(match["payment_id"])
    # The export holds supports only: the extra's receipt names a payment it lacks.
    assert {k: v for k, v in found.items() if k} == EXPECTED | {
        "no_such_payment": [None, None, None]
    }
    assert standin.paths == []


def test_a_csv_without_the_columns_it_needs_says_which(tmp_path: Path, url: str, capsys) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Name,Email\nAda,ada@example.com\n")
    code, _, err = run(capsys, "--url", url, "bmc", "show", "1", "--from-csv", str(path))
    assert (
        code == 1 and "has no column for id, currency, date, amount (or coffees and price)" in err
    )


def test_the_key_of_a_payment_is_the_key_the_sql_folds_its_reference_to(db: Database) -> None:
    """Python's payment_key and the receipts' SQL agree, on both dialects."""
    user_id, _ = someone(db)
    for kind, payment_id in (("support", 42), ("extra", 43), ("membership", 44)):
        payment = bmc.Payment(kind, payment_id, "", "", Decimal(1), "USD", NOW, False)
        receipt(db, user_id, payment.reference, "verified", "1.00", 1)
        assert [r.bmc_reference for r in bmc.payment_receipts(db, payment)] == [payment.reference]
    assert users.resolve_user(db, someone(db)[1]) == user_id


def test_verifying_a_pending_receipt_of_a_granted_payment_needs_an_override(
    db: Database, url: str, capsys
) -> None:
    """Another form of the reference is the same payment: its pending receipt can't be
    verified (granted again) without a reason."""
    user_id, _ = someone(db)
    receipt(db, user_id, "BMC-245731", "verified", "5.00", 2)
    receipt(db, user_id, "bmc 245731", "pending", "5.00", 1)
    pending = scalar(db, "SELECT id FROM payment_receipts WHERE bmc_reference = 'bmc 245731'")
    code, out, err = run(capsys, "--url", url, "receipts", "verify", str(pending), "--yes")
    assert code == 1 and "already used" in err and "already on 1 receipt(s)" in out
    assert scalar(db, "SELECT status FROM payment_receipts WHERE id = :i", i=pending) == "pending"


def test_a_manual_grant_of_a_payment_granted_by_bmc_id_needs_an_override(
    db: Database, standin: Standin, url: str, capsys
) -> None:
    _, email = someone(db)
    standin.supporters.append(supporter(245731, email, NOW))
    assert grant(capsys, url, email, "--bmc", "245731")[0] == 0
    code, _, err = grant(capsys, url, email, "5.00", "--ref", "bmc 0245731")
    assert code == 1 and "already used" in err


def bmc_client(standin: Standin) -> BmcClient:
    return BmcClient(standin.token, standin.url)


def test_reconcile_counts_a_pending_second_receipt_and_a_receipt_refunded_only_here(
    db: Database, standin: Standin
) -> None:
    user_id, email = someone(db)
    standin.supporters += [
        supporter(600001, email, NOW - timedelta(days=1)),
        supporter(600002, email, NOW - timedelta(days=2)),
        supporter(600003, email, NOW - timedelta(days=3)),
    ]
    receipt(db, user_id, "BMC-600001", "verified", "5.00", 1)
    receipt(db, user_id, "bmc 600001", "pending", "5.00", 0)  # a second grant, waiting
    receipt(db, user_id, "BMC-600002", "refunded", "5.00", 1)  # refunded here, not at BMC
    receipt(db, user_id, "BMC-0600003", "verified", "5.00", 2)  # a leading zero
    with bmc_client(standin) as source:
        report = bmc.reconcile(db, source, NOW - timedelta(days=30))
    issues = {m.payment.id: m.issue for m in report.matches if m.payment}
    assert issues == {600001: "granted_twice", 600002: "paid_not_granted", 600003: ""}
    assert len(report.matches) == 3


def test_a_payment_made_while_the_pages_are_read_is_neither_lost_nor_doubled(
    standin: Standin,
) -> None:
    standin.supporters += [
        supporter(100 + n, "a@example.com", NOW - timedelta(hours=n)) for n in range(6)
    ]
    standin.arrivals.append(supporter(200, "b@example.com", NOW + timedelta(minutes=1)))
    with bmc_client(standin) as source:
        ids = [p.id for p in source.payments("support")]
    assert len(ids) == len(set(ids)) and set(range(100, 106)) <= set(ids)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"support_coffees": 10**30}, "not a number BMC gives"),
        ({"support_coffee_price": "1e30"}, "not an amount"),
    ],
)
def test_absurd_numbers_are_a_malformed_reply(standin: Standin, change: dict, says: str) -> None:
    standin.supporters.append({**supporter(1, "a@example.com", NOW), **change})
    with bmc_client(standin) as source, pytest.raises(BmcError, match=says):
        source.payment("support", 1)


def test_an_error_body_that_is_not_an_empty_list_is_an_error(
    standin: Standin, url: str, capsys
) -> None:
    standin.error = "This token can't read supporters."
    code, _, err = run(capsys, "--url", url, "bmc", "find", "a@example.com")
    assert code == 2 and "can't read supporters" in err


def test_a_token_that_can_t_go_in_a_header_is_one_sentence(
    standin: Standin, url: str, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("ADMINUI_BMC_TOKEN", "secr\u00e9t")
    code, _, err = run(capsys, "--url", url, "bmc", "show", "1")
    assert code == 2 and "printable ASCII" in err and "secr" not in err


@pytest.mark.parametrize(
    ("header", "row", "says"),
    [
        ("ID,Email,Amount,Currency,Date", '1,a@x.com,"5,00",USD,2026-06-01 10:00:00', "amount"),
        ("ID,Email,Amount,Currency,Date", "1,a@x.com,-5.00,USD,2026-06-01 10:00:00", "amount"),
        (
            "ID,Email,Amount,Currency,Date,Refunded",
            "1,a@x.com,5.00,USD,2026-06-01 10:00:00,maybe",
            "not yes or no",
        ),
    ],
)
def test_a_csv_value_that_could_be_misread_is_refused(
    tmp_path: Path, header: str, row: str, says: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(InputError, match=says):
        CsvPayments(path)


def test_a_csv_reads_refunded_from_its_status_and_refuses_a_repeated_id(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "ID,Email,Amount,Currency,Date,Status\n"
        '1,a@x.com,"1,234.50",USD,2026-06-01 10:00:00,Refunded\n'
        "2,a@x.com,5.00,USD,2026-06-01 11:00:00,Succeeded\n"
    )
    payments = {p.id: p for p in CsvPayments(path).payments("support")}
    assert payments[1].refunded and payments[1].amount == Decimal("1234.50")
    assert not payments[2].refunded
    path.write_text(
        "ID,Email,Amount,Currency,Date,Refunded\n"
        "1,a@x.com,5,USD,2026-06-01 10:00:00,N\n1,b@x.com,5,USD,2026-06-02 10:00:00,no\n"
    )
    with pytest.raises(InputError, match="line 3 repeats support 1"):
        CsvPayments(path)
