"""filepath's credit adjustments (seed 000): a user's or one API key's credit_balance moved in
one transaction, with no ledger table, so the audit log's intent line is the record and is
there before COMMIT. Attacked: a reference adjusted twice (any case), two operators at once, a
key of another user, a balance stored as text, below zero unasked, odd input, a killed process.
"""

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
from adminui.ops import adjustments
from tests.conftest import dump_tables, execute, rows, run
from tests.test_credits_ops import _concurrently

OPERATOR = "ops@filepath.test"
JORDAN = "fp_usr_jordan"  # seed 000's test user, 1,000 credits
TWIN = "fp_usr_Jordan"  # its case twin, 0 credits
CAPPED = "fp_usr_21"  # key_21_0 holds 900 with a cap of 500


@pytest.fixture(autouse=True)
def _audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))


def parse(credits: str | int = "+250", reason: str = "BMC coffee", **options):
    return adjustments.parse_adjustment(credits, reason, max_credits=10_000, **options)


def balances(db: Database, user: str) -> tuple:
    [row] = rows(db, "SELECT credit_balance FROM user WHERE id = :u", u=user)
    keys = rows(db, "SELECT id, credit_balance FROM apikey WHERE user_id = :u ORDER BY id", u=user)
    return row["credit_balance"], [(k["id"], k["credit_balance"]) for k in keys]


def test_an_adjustment_moves_the_balance_and_its_audit_line_is_the_record(
    filepath: Database,
) -> None:
    before = balances(filepath, JORDAN)
    done = adjustments.adjust(filepath, JORDAN, parse(reference="BMC-1"), OPERATOR)
    assert (done.previous, done.new) == (1000, 1250) == (before[0], balances(filepath, JORDAN)[0])
    assert balances(filepath, TWIN) == (0, [])
    [line] = audit.writes()
    assert line["outcome"] == "committed" and line["operation"] == "adjust"
    assert line["before"] == {"credit_balance": 1000} and line["after"] == {"credit_balance": 1250}
    assert line["inputs"]["reason"] == "BMC coffee" and line["inputs"]["reference"] == "BMC-1"
    assert "no ledger table" in done.receipt_text()
    taken = adjustments.adjust(filepath, JORDAN, parse("-50", "refunded"), OPERATOR)
    assert (taken.previous, taken.new) == (1250, 1200)


def test_an_api_key_s_balance_moves_alone_and_only_for_its_owner(filepath: Database) -> None:
    user_before, keys_before = balances(filepath, CAPPED)
    preview = adjustments.preview_adjustment(filepath, CAPPED, parse("+1", apikey="key_21_1"))
    assert not preview.over_cap and preview.before.kind == "API key"
    done = adjustments.adjust(filepath, CAPPED, parse("+1", apikey="key_21_1"), OPERATOR)
    assert balances(filepath, CAPPED) == (user_before, [keys_before[0], ("key_21_1", 122)])
    assert done.record()["apikey_id"] == "key_21_1"
    assert adjustments.preview_adjustment(filepath, CAPPED, parse("+1", apikey="key_21_0")).over_cap
    state = dump_tables(filepath, filepath.pack)
    for user, key in ((JORDAN, "key_21_0"), (CAPPED, "KEY_21_0"), (CAPPED, "key_21_0' OR 1=1")):
        with pytest.raises(NotFoundError, match="no API key"):
            adjustments.adjust(filepath, user, parse(apikey=key), OPERATOR)
    assert dump_tables(filepath, filepath.pack) == state


@pytest.mark.parametrize("typed", ["BMC-2", " bmc-2", "Bmc-2 "])
def test_a_reference_already_adjusted_is_refused_however_it_is_typed(
    filepath: Database, typed: str
) -> None:
    adjustments.adjust(filepath, JORDAN, parse(reference="BMC-2"), OPERATOR)
    state = dump_tables(filepath, filepath.pack)
    preview = adjustments.preview_adjustment(filepath, TWIN, parse(reference=typed))
    assert len(preview.earlier) == 1
    with pytest.raises(InputError, match="on 1 adjustment"):
        adjustments.adjust(filepath, TWIN, parse(reference=typed), OPERATOR)
    overridden = parse(reference=typed, override_reason="a second coffee")
    with pytest.raises(InputError, match="logged since the preview"):
        adjustments.adjust(filepath, TWIN, overridden, OPERATOR)
    assert dump_tables(filepath, filepath.pack) == state
    adjustments.adjust(filepath, TWIN, overridden, OPERATOR, seen_earlier=preview.earlier_ids)
    assert balances(filepath, TWIN)[0] == 250


def test_a_rolled_back_adjustment_does_not_hold_its_reference(filepath: Database) -> None:
    with pytest.raises(InputError, match="below zero"):
        adjustments.adjust(filepath, TWIN, parse("-5", reference="BMC-3"), OPERATOR)
    assert adjustments.preview_adjustment(filepath, TWIN, parse(reference="BMC-3")).earlier == ()


def test_two_operators_adjusting_one_payment_at_once_adjust_it_once(filepath: Database) -> None:
    """The second waits on SQLite's write lock, then finds the first's intent line."""
    results = _concurrently(
        [
            lambda user=user: adjustments.adjust(
                filepath, user, parse(reference="BMC-RACE"), OPERATOR
            )
            for user in (JORDAN, TWIN)
        ]
    )
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(refused) == 1 and "on 1 adjustment" in str(refused[0])
    assert balances(filepath, JORDAN)[0] + balances(filepath, TWIN)[0] == 1000 + 250


def test_below_zero_needs_its_second_yes(filepath: Database) -> None:
    state = dump_tables(filepath, filepath.pack)
    assert adjustments.preview_adjustment(filepath, JORDAN, parse("-1001")).below_zero
    with pytest.raises(InputError, match="below zero"):
        adjustments.adjust(filepath, JORDAN, parse("-1001"), OPERATOR)
    assert dump_tables(filepath, filepath.pack) == state
    done = adjustments.adjust(filepath, JORDAN, parse("-1001"), OPERATOR, below_zero=True)
    assert done.new == -1 == balances(filepath, JORDAN)[0]


@pytest.mark.parametrize("stored", ["'1000 credits'", "12.5", "x'00'"])
def test_a_balance_stored_as_something_else_is_refused(filepath: Database, stored: str) -> None:
    execute(filepath, f"UPDATE user SET credit_balance = {stored} WHERE id = :u", u=JORDAN)
    state = dump_tables(filepath, filepath.pack)
    with pytest.raises(InputError, match="not a whole number"):
        adjustments.adjust(filepath, JORDAN, parse(), OPERATOR)
    assert dump_tables(filepath, filepath.pack) == state
    assert audit.writes() == []


@pytest.mark.parametrize(
    ("credits", "reason", "options", "field"),
    [
        ("0", "x", {}, "credits"),
        ("+-5", "x", {}, "credits"),
        ("5\n6", "x", {}, "credits"),
        ("1e3", "x", {}, "credits"),
        ("+10001", "x", {}, "credits"),
        ("+5", "  ", {}, "reason"),
        ("+5", "x", {"reference": "CAFÉ-1"}, "reference"),
        ("+5", "x", {"reference": "BMC\u200b-1"}, "reference"),
    ],
)
def test_odd_input_is_refused_by_its_field(credits, reason, options, field) -> None:
    with pytest.raises(InputError) as refused:
        parse(credits, reason, **options)
    assert refused.value.field == field


KILLED = """
import os, sys
from sqlalchemy.engine import make_url
from adminui.config import Profile
from adminui.db import Database
from adminui.ops import adjustments
from adminui.packs import pack_named

db = Database(Profile("killed", make_url(sys.argv[1])), pack=pack_named("filepath"))
change = adjustments.parse_adjustment("+250", "killed", max_credits=1000)
adjustments.adjust(db, sys.argv[2], change, "ops", after_move=lambda: os._exit(9))
"""


def test_a_process_killed_after_its_update_leaves_the_balance_as_it_was(
    filepath_file: Database, tmp_path: Path
) -> None:
    """On the file, killed between its UPDATE and COMMIT (over D1's API there is no between:
    tests/test_d1_api.py fails the batch at each statement)."""
    state = dump_tables(filepath_file, filepath_file.pack)
    env = os.environ | {"ADMINUI_AUDIT_LOG": str(tmp_path / "killed.jsonl")}
    done = subprocess.run(
        [sys.executable, "-c", KILLED, str(filepath_file.profile.url), JORDAN],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 9, done.stderr
    assert dump_tables(filepath_file, filepath_file.pack) == state
    assert adjustments.adjust(filepath_file, JORDAN, parse(), OPERATOR).new == 1250


def test_the_cli_says_the_record_before_the_write_and_saves_the_receipt(
    filepath: Database, capsys, tmp_path: Path
) -> None:
    url = str(filepath.profile.url)
    receipt = tmp_path / "receipt.txt"
    argv = ("--url", url, "adjust", "Jordan@SendGrowth.com", "+40", "--reason", "promo ✨")
    code, out, err = run(capsys, *argv, "--yes", "--receipt", str(receipt))
    assert code == 0, err
    assert out.index("the audit log's line is the record") < out.index("Credits adjusted")
    assert "New Credits:       40" in receipt.read_text(encoding="utf-8")
    assert balances(filepath, TWIN)[0] == 40 and balances(filepath, JORDAN)[0] == 1000
    code, out, err = run(capsys, *argv[:4], "-41", "--reason", "x", "--yes")
    assert code != 0 and "--below-zero" in err
    code, out, err = run(capsys, *argv[:3], JORDAN, "+1", "--reason", "x", "--format", "json")
    assert code != 0 and "--yes" in err
    code, out, err = run(capsys, "--url", url, "grant", JORDAN, "5", "--ref", "x", "--yes")
    assert code != 0 and "adminui adjust" in err
    code, out, err = run(
        capsys,
        *argv[:3],
        JORDAN,
        "+7",
        "--reason",
        "k",
        "--apikey",
        "x",
        "--yes",
        "--format",
        "json",
    )
    assert code != 0 and "no API key" in err
    assert balances(filepath, JORDAN)[0] == 1000
    code, out, err = run(capsys, *argv, "--yes", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["new_credit_balance"] == 80 == balances(filepath, TWIN)[0]


async def test_the_screen_adjusts_and_says_there_is_no_ledger(filepath: Database) -> None:
    from tests.test_tui_credits import grant_on_screen

    done = await grant_on_screen(filepath, TWIN, *"+30", "tab", "tab", *"promo")
    assert "0 → 30" in done.preview and "no ledger table" in done.preview
    assert "No ledger row is written" in done.question
    assert "New Credits:       30" in done.receipt
    assert balances(filepath, TWIN)[0] == 30


def test_a_broken_audit_log_refuses_a_reference_it_can_t_check(
    filepath: Database, tmp_path: Path
) -> None:
    """The log is the only record: with a line edited, the lines after it are not trusted, so
    a reference could repeat unseen. An adjustment with a reference is refused; one without
    is not blocked by a check it doesn't make."""
    adjustments.adjust(filepath, JORDAN, parse(reference="BMC-9"), OPERATOR)
    log = tmp_path / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("BMC coffee", "BMC tea")
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    state = dump_tables(filepath, filepath.pack)
    with pytest.raises(InputError, match="can't be read whole"):
        adjustments.adjust(filepath, TWIN, parse(reference="BMC-9"), OPERATOR)
    assert dump_tables(filepath, filepath.pack) == state
    assert adjustments.adjust(filepath, TWIN, parse(), OPERATOR).new == 250
