"""The filepath pack (seed 000, Cloudflare D1: SQLite): Better Auth's tables with filepath's
credit columns, on its demo data and seed 000's hazards (the reset done by hand with foreign
keys off, the seeded test user and a case twin, times as epoch seconds, milliseconds and ISO
text). Every figure is checked against the tables read here directly."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from adminui.db import Database
from adminui.errors import NotFoundError
from adminui.ops import backups, orphans, users
from adminui.ops.values import as_bool, as_instant
from adminui.packs import recognise
from tests.conftest import FILEPATH, FIXTURE_NOW, dump_tables, execute, rows, run

PLANTED = {"session.user_id": 2, "account.user_id": 2, "passkey.user_id": 1, "apikey.user_id": 1}


def test_the_catalog_tells_filepath(filepath: Database, omnichat: Database) -> None:
    assert recognise(filepath.tables(), "here") is FILEPATH
    assert recognise(omnichat.tables(), "here") is not FILEPATH


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("linus.3@", {"fp_usr_3"}),
        ("fp_usr_42", {"fp_usr_42"}),
        ("CI runner", None),  # every user holding a key of that name
    ],
)
def test_users_are_found_by_what_support_is_told(
    filepath: Database, typed: str, expected: set[str] | None
) -> None:
    found = {r.id for r in users.find_users(filepath, typed, limit=10_000).rows}
    if expected is None:
        owners = rows(filepath, "SELECT DISTINCT user_id FROM apikey WHERE name = 'CI runner'")
        expected = {r["user_id"] for r in owners} & {
            r["id"] for r in rows(filepath, "SELECT id FROM user")
        }
    assert found == expected


def test_a_pasted_key_finds_its_owner_by_its_first_characters(filepath: Database) -> None:
    [key] = rows(filepath, "SELECT start, user_id FROM apikey WHERE id = 'key_6_0'")
    pasted = key["start"] + "Zq8vR2mWkT"
    assert [r.id for r in users.find_users(filepath, pasted).rows] == [key["user_id"]]


def test_seed_000_s_user_and_its_case_twin(filepath: Database) -> None:
    assert users.resolve_user(filepath, "jordan@sendgrowth.com") == "fp_usr_jordan"
    assert users.resolve_user(filepath, "Jordan@SendGrowth.com") == "fp_usr_Jordan"
    with pytest.raises(NotFoundError, match="2 users have the email"):
        users.resolve_user(filepath, "JORDAN@sendgrowth.com")
    detail = users.get_user_detail(filepath, "fp_usr_jordan", now=FIXTURE_NOW)
    assert detail.credit_balance == 1000


def test_every_user_s_detail_agrees_with_the_tables(filepath: Database) -> None:
    """Sessions (and those not expired at the fixture's now), passkeys, API keys and their
    credit, for every user; the keys newest first, never their hash or secrets."""
    sessions = rows(filepath, "SELECT user_id, expires_at FROM session")
    passkeys = Counter(r["user_id"] for r in rows(filepath, "SELECT user_id FROM passkey"))
    keys = rows(filepath, "SELECT * FROM apikey")
    for user in rows(filepath, "SELECT id FROM user"):
        user_id = user["id"]
        detail = users.get_user_detail(filepath, user_id, now=FIXTURE_NOW)
        mine = [s for s in sessions if s["user_id"] == user_id]
        assert detail.sessions == len(mine)
        assert detail.active_sessions == sum(
            1 for s in mine if as_instant(s["expires_at"]) > FIXTURE_NOW
        )
        assert detail.passkeys == passkeys[user_id]
        held = [k for k in keys if k["user_id"] == user_id]
        assert detail.api_key_count == len(held) == len(detail.api_keys)
        assert detail.api_key_credits == sum(k["credit_balance"] for k in held)
        newest = sorted(held, key=lambda k: (as_instant(k["created_at"]), k["id"]), reverse=True)
        assert [k.id for k in detail.api_keys] == [k["id"] for k in newest]
        for shown, raw in zip(detail.api_keys, newest, strict=True):
            assert shown.enabled is as_bool(raw["enabled"])
            assert "key" not in shown and "encrypted_secrets" not in shown
    assert any(s["expires_at"] for s in sessions)


def test_users_show_never_prints_a_key_s_hash_or_secrets(filepath: Database, capsys) -> None:
    url = str(filepath.profile.url)
    code, out, err = run(capsys, "--url", url, "users", "show", "fp_usr_42", "--format", "json")
    assert code == 0, err
    assert "demo-hash" not in out and "demo-encrypted" not in out and '"api_keys"' in out


def test_every_check_counts_what_the_demo_planted(filepath: Database) -> None:
    counted = {c.check.name: c.count for c in orphans.scan(filepath, full=True)}
    assert counted == PLANTED
    gone = rows(
        filepath, "SELECT count(*) AS n FROM apikey WHERE user_id NOT IN (SELECT id FROM user)"
    )
    assert gone == [{"n": PLANTED["apikey.user_id"]}]


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_clean_and_its_restore_give_back_what_can_be_restored(
    filepath_file: Database, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean each check, then restore: the table as before where adminui reads its rows whole;
    where it never reads some columns (a session's token, a key's hash and secrets), the clean
    is done and the restore refused."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    check = orphans.get_check(name, FILEPATH)
    before = dump_tables(filepath_file, FILEPATH)
    saved = backups.backup(filepath_file, check, tmp_path / "b.jsonl", include_dependents=True)
    result = orphans.clean(filepath_file, saved, "tester")
    assert (result.acted_on, result.remaining) == (PLANTED[name], 0)
    restoring = Database(filepath_file.profile, pack=FILEPATH, enforce_foreign_keys=False)
    try:
        if not check.restorable:
            with pytest.raises(Exception, match="can't be restored"):
                backups.restore(restoring, backups.read_backup(saved.path), "tester")
            return
        restored = backups.restore(restoring, backups.read_backup(saved.path), "tester")
    finally:
        restoring.dispose()
    assert restored.refused == ()
    assert dump_tables(filepath_file, FILEPATH) == before


def test_filepath_s_times_are_read_whatever_wrote_them(filepath: Database) -> None:
    stored = rows(filepath, "SELECT created_at FROM user")
    assert {type(r["created_at"]) for r in stored} == {int, str}
    listed = users.recent_users(filepath, limit=10_000).rows
    assert [r.created_at for r in listed] == sorted((r.created_at for r in listed), reverse=True)
    execute(filepath, "UPDATE user SET created_at = 'soon' WHERE id = 'fp_usr_1'")
    assert users.recent_users(filepath, limit=10_000).rows[-1].id == "fp_usr_1"


def test_budgets_find_keys_over_their_cap_and_idle_keys_holding_credit(
    filepath: Database, capsys
) -> None:
    """Each key judged here from its raw row, by the same value rules: a NULL cap is uncapped,
    'false' or 0 is disabled, an expiry in any time form before now is expired."""
    from adminui.ops.reports import read_all

    keys = rows(filepath, "SELECT id, credit_balance, budget_cap, enabled, expires_at FROM apikey")
    over = {
        k["id"]: k["credit_balance"] - k["budget_cap"]
        for k in keys
        if k["budget_cap"] is not None and k["credit_balance"] > k["budget_cap"]
    }

    def why(key: dict) -> str | None:
        at = as_instant(key["expires_at"])
        disabled = as_bool(key["enabled"]) is False
        expired = isinstance(at, datetime) and at < FIXTURE_NOW
        return (
            ", ".join(w for w, yes in (("disabled", disabled), ("expired", expired)) if yes) or None
        )

    idle = {k["id"]: why(k) for k in keys if k["credit_balance"] > 0 and why(k)}
    assert over and idle and any("disabled" in w for w in idle.values())
    found = {f.report.name: f for f in read_all(filepath, "health", 10_000, now=FIXTURE_NOW)}
    assert (
        {r.id: r.over_cap for r in found["over_cap"].rows}
        == over
        == {r.id: r.credit_balance - r.budget_cap for r in found["over_cap"].rows}
    )
    assert {r.id: r.why for r in found["idle_credit"].rows} == idle
    assert found["idle_credit"].found == len(idle)
    code, out, err = run(capsys, "--url", str(filepath.profile.url), "budgets", "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0].startswith("user_id,email,id,name,start,credit_balance,budget_cap")
