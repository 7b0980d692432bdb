"""OmniChat's battery grants and refunds (seed 002) on its D1 demo data: one write moves
user_battery.total_balance and adds a battery_transactions row whose balance_after is the new
balance, whose metadata holds the reference, operator and notes; a reference already in any
row's metadata or as its Stripe payment intent is refused however it is typed; a refund takes
one grant back, once, never below zero unasked. Each is attacked: two operators at once, a
process killed between the two writes, crafted metadata and balances, case-twin ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adminui import audit
from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops import ledger_credits
from adminui.ops.values import as_instant
from tests.conftest import dump_tables, execute, rows, run
from tests.test_credits_ops import _concurrently

OPERATOR = "ops@omnichat.test"
NEW = "user_2N000010"  # a demo user with no user_battery row and no ledger
SPENT = "user_2N000003"  # bonuses of 100 and 250 (BMC-40003), then usage: 308 left
UNEVEN = "user_2N000037"  # a balance 50 above its ledger's last balance_after
PAID = "user_2N000002"  # the app's own purchase row, payment intent pi_demo000002


@pytest.fixture(autouse=True)
def _audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))


def parse(units: int = 500, ref: str = "pi_3Q9test", **options) -> ledger_credits.LedgerGrantInput:
    return ledger_credits.parse_ledger_grant(units, ref, max_credits=100_000, **options)


def battery(db: Database, user: str) -> list[tuple]:
    """The user's balance row and ledger, read past adminui."""
    return [
        tuple(r.values())
        for r in rows(db, "SELECT total_balance FROM user_battery WHERE user_id = :u", u=user)
    ] + [
        tuple(r.values())
        for r in rows(
            db,
            "SELECT type, amount, balance_after FROM battery_transactions WHERE user_id = :u "
            "ORDER BY rowid",
            u=user,
        )
    ]


def test_a_grant_writes_its_ledger_row_with_the_balance_after_and_makes_the_balance(
    omnichat: Database,
) -> None:
    change = ledger_credits.grant(omnichat, NEW, parse(notes="coffee ☕, «merci»"), OPERATOR)
    [row] = rows(omnichat, "SELECT * FROM battery_transactions WHERE user_id = :u", u=NEW)
    assert (row["type"], row["amount"], row["balance_after"]) == ("purchase", 500, 500)
    assert json.loads(row["metadata"]) == {
        "reference": "pi_3Q9test",
        "operator": OPERATOR,
        "notes": "coffee ☕, «merci»",
    }
    assert row["created_at"].endswith(".000Z")  # the form the app's own rows have
    assert as_instant(row["created_at"]) == change.entry.created_at
    assert battery(omnichat, NEW)[0] == (500,)
    assert (change.previous_credits, change.new_credits) == (0, 500)
    assert change.record()["new_total_balance"] == 500 and "balance" not in change.record()
    assert "Balance After:     500" in change.receipt_text()
    [line] = [w for w in audit.writes() if w["operation"] == "grant"]
    assert line["outcome"] == "committed" and line["ids"]["transaction_id"] == row["id"]


def test_balance_after_is_the_balance_moved_even_where_the_ledger_disagrees(
    omnichat: Database,
) -> None:
    """The ledger's last balance_after is 50 below the balance (the demo's hazard): the new row
    says what the balance now is, not the ledger's sum."""
    [(balance,)] = battery(omnichat, UNEVEN)[:1]
    change = ledger_credits.grant(omnichat, UNEVEN, parse(40, ref="BMC-77"), OPERATOR)
    assert change.new_credits == balance + 40 == change.entry.balance_after
    assert battery(omnichat, UNEVEN)[-1] == ("purchase", 40, balance + 40)


@pytest.mark.parametrize("typed", ["BMC-40003", " bmc-40003", "PI_DEMO000002 ", "pi_demo000002"])
def test_a_reference_in_the_metadata_or_as_a_payment_intent_is_refused(
    omnichat: Database, typed: str
) -> None:
    before = dump_tables(omnichat, omnichat.pack)
    preview = ledger_credits.preview_grant(omnichat, NEW, parse(ref=typed))
    assert len(preview.duplicates) == 1
    assert preview.duplicates[0].user_id in (SPENT, PAID)
    with pytest.raises(InputError, match="already on 1 ledger row"):
        ledger_credits.grant(omnichat, NEW, parse(ref=typed), OPERATOR)
    overridden = parse(ref=typed, override_reason="a second coffee, same reference")
    with pytest.raises(InputError, match="changed since the preview"):
        ledger_credits.grant(omnichat, NEW, overridden, OPERATOR, seen_duplicates=frozenset())
    assert dump_tables(omnichat, omnichat.pack) == before
    change = ledger_credits.grant(
        omnichat, NEW, overridden, OPERATOR, seen_duplicates=preview.duplicate_ids
    )
    assert "overridden by ops@omnichat.test" in change.entry.notes


def test_a_reference_outside_ascii_is_refused_where_d1_folds_ascii_only(
    omnichat: Database,
) -> None:
    """D1's lower() leaves 'É' as it is: 'CAFÉ-1' and 'café-1' would be two references, and a
    payment granted twice."""
    before = dump_tables(omnichat, omnichat.pack)
    for ref in ("CAFÉ-1", "café-1"):
        with pytest.raises(InputError, match="ASCII"):
            ledger_credits.grant(omnichat, NEW, parse(ref=ref), OPERATOR)
        with pytest.raises(InputError, match="ASCII"):
            ledger_credits.preview_grant(omnichat, NEW, parse(ref=ref))
    assert dump_tables(omnichat, omnichat.pack) == before


@pytest.mark.parametrize(
    "metadata",
    [
        "not json {",
        '["pi_crafted"]',
        '{"reference": {"reference": "pi_crafted"}}',
        '{"notes": "pi_crafted"}',
        '"pi_crafted"',
        '{"reference": 7}',
    ],
)
def test_crafted_metadata_neither_matches_nor_breaks_a_grant(
    omnichat: Database, metadata: str
) -> None:
    execute(
        omnichat,
        "INSERT INTO battery_transactions (id, user_id, type, amount, balance_after, metadata, "
        "created_at) VALUES ('btx_crafted', :u, 'bonus', 5, 313, :m, '2026-01-01')",
        u=SPENT,
        m=metadata,
    )
    assert ledger_credits.preview_grant(omnichat, NEW, parse(ref="pi_crafted")).duplicates == ()
    numbered = ledger_credits.preview_grant(omnichat, NEW, parse(ref="7")).duplicates
    assert [d.id for d in numbered] == (["btx_crafted"] if "7" in metadata else [])
    ledger_credits.grant(omnichat, NEW, parse(ref="pi_crafted"), OPERATOR)
    assert battery(omnichat, NEW) == [(500,), ("purchase", 500, 500)]


def test_a_case_twin_s_battery_is_never_the_one_moved(omnichat: Database) -> None:
    """user_2NcaseA and user_2Ncasea are two users: a grant to one leaves the other alone."""
    ledger_credits.grant(omnichat, "user_2NcaseA", parse(9), OPERATOR)
    assert battery(omnichat, "user_2NcaseA") == [(9,), ("purchase", 9, 9)]
    assert battery(omnichat, "user_2Ncasea") == []
    with pytest.raises(NotFoundError):
        ledger_credits.grant(omnichat, "USER_2NCASEA", parse(9, ref="other"), OPERATOR)


@pytest.mark.parametrize("stored", ["'lots'", "12.5", "x'00ff'"])
def test_a_balance_stored_as_something_else_is_refused_not_made_up(
    omnichat: Database, stored: str
) -> None:
    """SQLite keeps text in an INTEGER column: 'lots' + 500 would be 500."""
    change = f"UPDATE user_battery SET total_balance = {stored} WHERE user_id = :u"
    execute(omnichat, change, u=SPENT)
    before = dump_tables(omnichat, omnichat.pack)
    with pytest.raises(InputError, match="not a whole number"):
        ledger_credits.preview_grant(omnichat, SPENT, parse())
    with pytest.raises(InputError, match="not a whole number"):
        ledger_credits.grant(omnichat, SPENT, parse(), OPERATOR)
    assert dump_tables(omnichat, omnichat.pack) == before


def test_a_refund_takes_one_grant_back_once_and_never_below_zero_unasked(
    omnichat: Database,
) -> None:
    """SPENT's 250-unit bonus: 308 left, so it comes back whole; the app's usage rows and a
    refund are not grants; a second refund of it, or one that would go below zero, is refused."""
    bonus = "btx_user_2N000003_1"
    change = ledger_credits.refund(omnichat, bonus, "sent twice", OPERATOR)
    assert (change.previous_credits, change.new_credits, change.entry.balance_after) == (
        308,
        58,
        58,
    )
    assert change.entry.refund_of == bonus and change.entry.reference == "BMC-40003"
    with pytest.raises(InputError, match="already refunded"):
        ledger_credits.refund(omnichat, bonus, "again", OPERATOR)
    with pytest.raises(InputError, match="only a grant"):
        ledger_credits.refund(omnichat, "btx_user_2N000003_2", "usage", OPERATOR)
    with pytest.raises(InputError, match="only a grant"):
        ledger_credits.refund(omnichat, change.entry.id, "a refund", OPERATOR)
    first = "btx_user_2N000003_0"
    assert ledger_credits.preview_refund(omnichat, first).after == -42
    before = dump_tables(omnichat, omnichat.pack)
    with pytest.raises(InputError, match="below zero"):
        ledger_credits.refund(omnichat, first, "spent", OPERATOR)
    assert dump_tables(omnichat, omnichat.pack) == before
    below = ledger_credits.refund(omnichat, first, "spent", OPERATOR, below_zero=True)
    assert below.new_credits == -42 == below.entry.balance_after
    for bad in ("", "two words", "x" * 201, "btx\x00", "ü"):
        with pytest.raises(InputError, match="not a ledger row"):
            ledger_credits.preview_refund(omnichat, bad)
    with pytest.raises(NotFoundError):
        ledger_credits.preview_refund(omnichat, "BTX_USER_2N000003_1")


# Over D1's API: a batch whose guards held it back (its preview came before the other's write).
RACED = ("nothing was changed",)


def test_two_operators_granting_one_payment_at_once_grant_it_once(omnichat: Database) -> None:
    """On the file, SQLite's BEGIN IMMEDIATE: the second waits for the first's COMMIT, then
    sees its row. Over D1's API, each grant is one batch: the second's guard finds the first's
    row, and it changes nothing."""
    results = _concurrently(
        [
            lambda user=user: ledger_credits.grant(omnichat, user, parse(ref="pi_RACE"), OPERATOR)
            for user in (NEW, "user_2N000020")
        ]
    )
    refused = [r for r in results if isinstance(r, InputError)]
    # Over D1's API the second's preview finds the first's row, or (the two previews first)
    # its batch's guards find it or the balance moved: either way it changes nothing.
    said = ("already on 1 ledger row", *(() if omnichat.holds_transactions else RACED))
    assert len(refused) == 1 and any(s in str(refused[0]) for s in said)
    held = rows(omnichat, "SELECT id FROM battery_transactions WHERE metadata LIKE '%pi_RACE%'")
    assert len(held) == 1


def test_two_refunds_of_one_grant_at_once_take_it_back_once(omnichat: Database) -> None:
    """On the file the second waits for the first's COMMIT and finds its refund; over D1's API
    the second's batch finds the balance moved (or the refund there) and changes nothing."""
    granted = ledger_credits.grant(omnichat, NEW, parse(25), OPERATOR).entry.id
    results = _concurrently(
        [lambda: ledger_credits.refund(omnichat, granted, "twice?", OPERATOR) for _ in range(2)]
    )
    said = ("already refunded", *(() if omnichat.holds_transactions else RACED))
    assert sum(isinstance(r, InputError) and any(s in str(r) for s in said) for r in results) == 1
    assert battery(omnichat, NEW) == [(0,), ("purchase", 25, 25), ("refund", -25, 0)]


KILLED_GRANT = """
import os, sys
from sqlalchemy.engine import make_url
from adminui.config import Profile
from adminui.db import Database
from adminui.ops import ledger_credits
from adminui.packs import pack_named

db = Database(Profile("killed", make_url(sys.argv[1])), pack=pack_named("omnichat"))
grant = ledger_credits.parse_ledger_grant(500, "pi_KILLED", max_credits=1000)
ledger_credits.grant(db, sys.argv[2], grant, "ops", after_insert=lambda: os._exit(9))
"""


def test_a_grant_whose_process_dies_between_its_writes_leaves_nothing(
    omnichat_file: Database, tmp_path: Path
) -> None:
    """The process is killed with its ledger row inserted and the balance not yet moved: the
    file's journal rolls the half-write back, and the next grant goes through."""
    before = dump_tables(omnichat_file, omnichat_file.pack)
    env = os.environ | {"ADMINUI_AUDIT_LOG": str(tmp_path / "killed.jsonl")}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_GRANT, str(omnichat_file.profile.url), NEW],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 9, done.stderr
    assert dump_tables(omnichat_file, omnichat_file.pack) == before
    assert rows(omnichat_file, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    assert (
        ledger_credits.grant(omnichat_file, NEW, parse(ref="pi_KILLED"), OPERATOR).new_credits
        == 500
    )


def test_the_cli_grants_and_refunds_by_reference_in_battery_units(
    omnichat: Database, capsys
) -> None:
    url = str(omnichat.profile.url)
    with pytest.raises(SystemExit):
        run(capsys, "--product", "omnichat", "grant", "--help")
    out = capsys.readouterr().out
    assert "--team" not in out and "UNITS" in out and "battery units" in out
    code, out, err = run(
        capsys, "--url", url, "grant", "Sam.Case@example.com", "700", "--ref", "pi_CLI1", "--yes"
    )
    assert code == 0, err
    assert "Battery of user Sam.Case@example.com: 0 → 700" in out
    assert "New Battery:       700" in out
    refund = ("grant", "Sam.Case@example.com", "--ref", "PI_cli1", "--type", "refund", "--yes")
    code, out, err = run(capsys, "--url", url, *refund[:2], "70", *refund[2:], "--notes", "x")
    assert code != 0 and "gave 700" in err and "nothing was written" in err
    code, out, err = run(capsys, "--url", url, *refund[:2], "700", *refund[2:])
    assert code != 0 and "--notes" in err
    code, out, err = run(
        capsys,
        "--url",
        url,
        *refund[:2],
        "700",
        *refund[2:],
        "--notes",
        "charged back",
        "--format",
        "json",
    )
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["amount"], shown["balance_after"], shown["new_total_balance"]) == (-700, 0, 0)
    code, out, err = run(capsys, "--url", url, *refund[:2], "700", *refund[2:], "--notes", "x")
    assert code != 0 and "not refunded yet" in err
    assert battery(omnichat, "user_2NcaseA") == [
        (0,),
        ("purchase", 700, 700),
        ("refund", -700, 0),
    ]
    assert battery(omnichat, "user_2Ncasea") == []


async def test_the_grant_screen_grants_battery_without_a_team(omnichat: Database) -> None:
    from tests.test_tui_credits import grant_on_screen

    done = await grant_on_screen(omnichat, NEW, *"30", "tab", *"bonus", "tab", *"GIFT-TUI")
    assert "Team" not in done.labels and "Battery" in done.labels
    assert "0 → 30" in done.preview and "Grant 30 battery units (bonus" in done.question
    assert "Balance After:     30" in done.receipt
    assert battery(omnichat, NEW) == [(30,), ("bonus", 30, 30)]


def add_row(db: Database, row_id: str, user: str, kind: str, amount, **columns) -> None:
    """A battery_transactions row written past adminui, as the app or a hand-run script would."""
    values = {"id": row_id, "user_id": user, "type": kind, "amount": amount} | columns
    names = ", ".join(values)
    execute(
        db,
        f"INSERT INTO battery_transactions ({names}, created_at) "
        f"VALUES ({', '.join(':' + k for k in values)}, '2026-02-01T00:00:00.000Z')",
        **values,
    )


def test_a_purchase_the_app_refunded_is_not_taken_back_twice(omnichat: Database) -> None:
    """The app's refund row carries the purchase's payment intent, not refund_of: it counts as
    the purchase's refund, by id and by reference alike."""
    purchase = "btx_user_2N000002_1"
    add_row(
        omnichat,
        "btx_app_refund",
        PAID,
        "refund",
        -5000,
        stripe_payment_intent_id="pi_demo000002",
    )
    before = dump_tables(omnichat, omnichat.pack)
    for attempt in (
        lambda: ledger_credits.preview_refund(omnichat, purchase),
        lambda: ledger_credits.refund(omnichat, purchase, "charged back", OPERATOR),
    ):
        with pytest.raises(InputError, match=r"already refunded \(ledger row btx_app_refund"):
            attempt()
    with pytest.raises(NotFoundError, match="not refunded yet"):
        ledger_credits.grant_of(omnichat, PAID, " PI_DEMO000002")
    assert dump_tables(omnichat, omnichat.pack) == before


def test_another_user_s_refund_naming_a_grant_neither_counts_nor_blocks_it(
    omnichat: Database,
) -> None:
    bonus = "btx_user_2N000003_1"
    add_row(
        omnichat,
        "btx_crafted",
        PAID,
        "refund",
        -250,
        metadata=json.dumps({"refund_of": bonus}),
    )
    add_row(omnichat, "btx_intent", PAID, "refund", -250, stripe_payment_intent_id="BMC-40003")
    assert ledger_credits.grant_of(omnichat, SPENT, "BMC-40003").id == bonus
    change = ledger_credits.refund(omnichat, bonus, "sent twice", OPERATOR)
    assert (change.previous_credits, change.new_credits) == (308, 58)


@pytest.mark.parametrize("amount", [None, "lots", 12.5])
def test_a_ledger_amount_that_is_not_a_whole_number_is_shown_as_stored(
    omnichat: Database, amount
) -> None:
    """A hand-written row with a NULL or text amount is named in the refusals as it is, never a
    traceback, never made a number."""
    add_row(omnichat, "btx_odd", SPENT, "bonus", amount, metadata='{"reference": "BMC-ODD"}')
    before = dump_tables(omnichat, omnichat.pack)
    shown = "NULL" if amount is None else repr(amount)
    with pytest.raises(InputError, match=f"bonus {shown}"):
        ledger_credits.grant(omnichat, NEW, parse(ref="BMC-ODD"), OPERATOR)
    with pytest.raises(InputError, match=f"bonus of {shown}; only a grant"):
        ledger_credits.refund(omnichat, "btx_odd", "odd", OPERATOR)
    assert dump_tables(omnichat, omnichat.pack) == before


def test_a_refund_with_no_balance_row_left_says_so(omnichat: Database) -> None:
    """The user's user_battery row was deleted by hand: there is nothing to take the units from,
    and the refusal says that rather than 'the balance changed meanwhile'."""
    execute(omnichat, "DELETE FROM user_battery WHERE user_id = :u", u=SPENT)
    before = dump_tables(omnichat, omnichat.pack)
    bonus = "btx_user_2N000003_1"
    with pytest.raises(InputError, match="has no user_battery row"):
        ledger_credits.preview_refund(omnichat, bonus)
    with pytest.raises(InputError, match="has no user_battery row"):
        ledger_credits.refund(omnichat, bonus, "sent twice", OPERATOR, below_zero=True)
    assert dump_tables(omnichat, omnichat.pack) == before


@pytest.mark.parametrize(
    "columns",
    [
        {"metadata": json.dumps({"reference": "\u00a0BMC-9\u200b"})},
        {"metadata": json.dumps({"reference": "\tbmc-9\r\n"})},
        {"metadata": json.dumps({"reference": "\ufeffBMC-9\u3000"})},
        {"metadata": '{"reference": "other", "reference": "BMC-9"}'},
        {"stripe_payment_intent_id": "\u2007BMC-9\u2060"},
        {"metadata": json.dumps({"reference": "BMC-9\u200e"})},
        {"metadata": json.dumps({"reference": "\u00adBMC-9\u180e"})},
        {"metadata": "{reference: 'BMC-9'}"},
        {"metadata": '{"reference": "BMC-9",}'},
    ],
    ids=[
        "nbsp-zwsp",
        "tab-crlf",
        "bom-ideographic",
        "repeated-key",
        "intent-figure-space",
        "direction-mark",
        "soft-hyphen-mongolian",
        "json5-unquoted",
        "json5-trailing-comma",
    ],
)
def test_a_stored_reference_wrapped_in_blanks_or_repeated_is_still_a_duplicate(
    omnichat: Database, columns: dict
) -> None:
    """A reference pasted from an email into a hand-run script keeps its no-break or zero-width
    spaces; a grant of the same payment typed plainly must still see it."""
    add_row(omnichat, "btx_pasted", SPENT, "bonus", 9, **columns)
    before = dump_tables(omnichat, omnichat.pack)
    assert [
        d.id for d in ledger_credits.preview_grant(omnichat, NEW, parse(ref="BMC-9")).duplicates
    ] == ["btx_pasted"]
    with pytest.raises(InputError, match="already on 1 ledger row"):
        ledger_credits.grant(omnichat, NEW, parse(ref="BMC-9"), OPERATOR)
    assert dump_tables(omnichat, omnichat.pack) == before


def test_a_refund_by_reference_refuses_what_only_a_grant_takes(omnichat: Database, capsys) -> None:
    """--override-duplicate means nothing to a refund: said, rather than silently dropped."""
    url = str(omnichat.profile.url)
    before = dump_tables(omnichat, omnichat.pack)
    code, _, err = run(
        capsys, "--url", url, "grant", "user_2N000003", "250", "--ref", "BMC-40003",
        "--type", "refund", "--notes", "x", "--override-duplicate", "why", "--yes",
    )  # fmt: skip
    assert code == 1 and "--override-duplicate" in err and "not with --type refund" in err
    assert dump_tables(omnichat, omnichat.pack) == before


def test_the_blanks_a_stored_reference_is_trimmed_of_are_every_space_and_format_character() -> None:
    import unicodedata

    wanted = {
        c for c in map(chr, range(0x110000)) if c.isspace() or unicodedata.category(c) == "Cf"
    }
    assert wanted <= set(ledger_credits.BLANKS)
    assert all(
        c.isspace() or unicodedata.category(c) in ("Cf", "Cn") for c in ledger_credits.BLANKS
    )


@pytest.mark.parametrize(
    ("grant_columns", "refund_intent"),
    [
        ({"stripe_payment_intent_id": "pi_X\u00a0"}, "pi_X"),  # a blank on the purchase's side
        ({"metadata": json.dumps({"reference": "pi_Y"})}, " PI_Y"),  # adminui's grant of pi_Y
    ],
    ids=["intent-with-nbsp", "reference-in-metadata"],
)
def test_a_refund_the_app_already_made_is_seen_however_the_payment_is_held(
    omnichat: Database, grant_columns: dict, refund_intent: str
) -> None:
    add_row(omnichat, "btx_g1", NEW, "purchase", 500, **grant_columns)
    add_row(omnichat, "btx_r1", NEW, "refund", -500, stripe_payment_intent_id=refund_intent)
    execute(omnichat, "INSERT INTO user_battery (user_id, total_balance) VALUES (:u, 0)", u=NEW)
    before = dump_tables(omnichat, omnichat.pack)
    with pytest.raises(InputError, match="already refunded"):
        ledger_credits.refund(omnichat, "btx_g1", "again", OPERATOR, below_zero=True)
    assert dump_tables(omnichat, omnichat.pack) == before


def test_an_empty_payment_intent_never_counts_as_a_refund(omnichat: Database) -> None:
    add_row(omnichat, "btx_g1", NEW, "purchase", 5, stripe_payment_intent_id="")
    add_row(omnichat, "btx_r1", NEW, "refund", -9, stripe_payment_intent_id=" ")
    execute(omnichat, "INSERT INTO user_battery (user_id, total_balance) VALUES (:u, 5)", u=NEW)
    assert ledger_credits.refund(omnichat, "btx_g1", "sent twice", OPERATOR).new_credits == 0
