"""fltr's grants and refunds on both dialects: one ledger row and the balance moved together,
read back, audited; the duplicate reference caught however it is typed or stored; team grants
on the team's balance; refunds once, never below zero unasked. And attacked: two operators at
once, a connection killed between the two writes, a lost COMMIT reply, a session whose TimeZone
was changed from outside, metadata that isn't an object or isn't JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adminui.cli import main
from adminui.db import ConnectionLostError, Database
from adminui.errors import InputError, NotFoundError
from adminui.ops import ledger, ledger_credits
from adminui.packs import DATA, MAIN
from tests.conftest import PG_PASSWORD, fltr_databases, run
from tests.test_credits_ops import _concurrently
from tests.test_fltr import _cli_urls, count_sql, execute, rows_sql

OPERATOR = "tester@example.com"
NEW = "usr_new"  # a user with no balance row yet


@pytest.fixture(autouse=True)
def _audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))


def parse(credits: int = 25, ref: str = "BMC-9001", **options) -> ledger_credits.LedgerGrantInput:
    return ledger_credits.parse_ledger_grant(credits, ref, max_credits=10_000, **options)


def state(db: Database, user: str = NEW) -> tuple:
    """The user's balance row and ledger, and every team's credits, read past adminui."""
    return (
        rows_sql(
            db,
            f"SELECT credits, total_credits_purchased FROM user_credits WHERE user_id = '{user}'",
        ),
        rows_sql(
            db, f"SELECT amount, type FROM credit_transactions WHERE user_id = '{user}' ORDER BY id"
        ),
        rows_sql(db, "SELECT id, credits FROM teams ORDER BY id"),
    )


def unbalanced(db: Database) -> int:
    return ledger.balance_check(db).unbalanced


def sign_up(db: Database, user: str = NEW) -> None:
    execute(db, f"INSERT INTO users (id, name, email) VALUES ('{user}', 'New', '{user}@x.org')")


def test_a_grant_writes_one_ledger_row_and_its_balance_together(fltr: Database) -> None:
    """A user without a balance row: the grant creates it, with the purchase counted as bought;
    the ledger row's metadata holds the reference, the operator and the notes exactly as given
    (quotes, a backslash, a newline, an emoji); the balance check finds nothing new."""
    sign_up(fltr)
    checked = unbalanced(fltr)
    notes = 'paid "twice"? no: once \\ 💸\nsecond line'
    change = ledger_credits.grant(fltr, NEW, parse(notes=notes), OPERATOR)
    assert state(fltr)[:2] == ([(25, 25)], [(25, "purchase")])
    assert (change.previous_credits, change.new_credits) == (0, 25)
    entry = change.entry
    assert (entry.reference, entry.operator, entry.notes, entry.account) == (
        "BMC-9001",
        OPERATOR,
        notes,
        "user",
    )
    [[stored]] = rows_sql(
        fltr, f"SELECT transaction_metadata FROM credit_transactions WHERE id = {entry.id}"
    )
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert stored == {
        "reference": "BMC-9001",
        "operator": OPERATOR,
        "notes": notes,
        "account": "user",
    }
    assert unbalanced(fltr) == checked
    bonus = ledger_credits.grant(fltr, NEW, parse(5, "GIFT-1", kind="bonus"), OPERATOR)
    assert bonus.new_credits == 30 and state(fltr)[0] == [(30, 25)]


@pytest.mark.parametrize("typed", ["bmc-4", "  BMC-4", "Bmc-4 "])
def test_a_reference_in_the_ledger_is_refused_however_it_is_typed(
    fltr: Database, typed: str
) -> None:
    """The demo holds BMC-4 on user 4's purchase and 'bmc-4 ' on user 7's: both are shown and
    the grant refused, whatever the case or spaces; an override covers exactly the rows seen,
    and a row with the reference planted after the preview stops it."""
    sign_up(fltr)
    grant = parse(ref=typed)
    preview = ledger_credits.preview_grant(fltr, NEW, grant)
    assert sorted(d.user_id for d in preview.duplicates) == ["usr_4", "usr_7"]
    with pytest.raises(InputError, match="already on 2 ledger row"):
        ledger_credits.grant(fltr, NEW, grant, OPERATOR)
    overriding = parse(ref=typed, override_reason="a second coffee, same note")
    execute(
        fltr,
        "INSERT INTO credit_transactions (user_id, amount, type, transaction_metadata) "
        "VALUES ('usr_9', 100, 'purchase', '{\"reference\": \"BMC-4\"}')",
    )
    with pytest.raises(InputError, match="changed since the preview"):
        ledger_credits.grant(fltr, NEW, overriding, OPERATOR, seen_duplicates=preview.duplicate_ids)
    assert state(fltr)[:2] == ([], [])
    seen = ledger_credits.preview_grant(fltr, NEW, overriding).duplicate_ids
    change = ledger_credits.grant(fltr, NEW, overriding, OPERATOR, seen_duplicates=seen)
    assert "Duplicate reference overridden by" in change.entry.notes


@pytest.mark.parametrize(
    "typed",
    ["BMC\u200b-4", "\ufeffBMC-4", "\uff22\uff2d\uff23-4", "BMC-4\u0301"],
    ids=["zwsp", "bom", "wide", "accent"],
)
def test_a_reference_that_only_looks_like_another_is_refused(typed: str) -> None:
    with pytest.raises(InputError, match="reference"):
        parse(ref=typed)


@pytest.mark.parametrize(
    "stored",
    ["\u00a0PAY-Z88\u200b", "\tpay-z88\r\n", "PAY-Z88\u200e", "\u00adPAY-Z88\u3000"],
    ids=["nbsp-zwsp", "tab-crlf", "direction-mark", "soft-hyphen-ideographic"],
)
def test_a_stored_reference_wrapped_in_invisible_blanks_is_still_a_duplicate(
    fltr: Database, stored: str
) -> None:
    """A reference pasted from an email into a hand-run script keeps its no-break spaces and
    marks; the same payment typed plainly is still refused, on both dialects."""
    meta = json.dumps({"reference": stored}).replace("'", "''")
    execute(
        fltr,
        "INSERT INTO credit_transactions (user_id, amount, type, transaction_metadata) "
        f"VALUES ('usr_2', 100, 'purchase', '{meta}')",
    )
    sign_up(fltr)
    [found] = ledger_credits.preview_grant(fltr, NEW, parse(ref="PAY-Z88")).duplicates
    assert found.user_id == "usr_2"
    with pytest.raises(InputError, match="already on 1 ledger row"):
        ledger_credits.grant(fltr, NEW, parse(ref="PAY-Z88"), OPERATOR)
    assert state(fltr)[:2] == ([], [])


def test_metadata_that_is_not_an_object_neither_matches_nor_breaks_the_check(
    fltr: Database,
) -> None:
    """Rows another program wrote with odd metadata (a JSON string, an array, a number as the
    reference, and on SQLite text that isn't JSON at all): the duplicate check reads past
    them, still finding the real duplicate (a number 77 is the reference '77')."""
    odd = ["'\"BMC-77\"'", "'[\"BMC-77\"]'", "'{\"reference\": 77}'", "NULL"]
    if fltr.dialect == "sqlite":
        odd.append("'not json {'")
    execute(
        fltr,
        *(
            "INSERT INTO credit_transactions (user_id, amount, type, transaction_metadata) "
            f"VALUES ('usr_2', 1, 'bonus', {value})"
            for value in odd
        ),
    )
    sign_up(fltr)
    [found] = ledger_credits.preview_grant(fltr, NEW, parse(ref="77")).duplicates
    assert (found.user_id, found.amount) == ("usr_2", 1)
    assert not ledger_credits.preview_grant(fltr, NEW, parse(ref="BMC-77")).duplicates
    assert ledger_credits.grant(fltr, NEW, parse(ref="BMC-77"), OPERATOR).new_credits == 25


def test_a_team_grant_moves_the_team_s_balance_and_only_for_its_people(fltr: Database) -> None:
    """usr_50 owns Team 1 and usr_51 is a member: a grant to the team adds to teams.credits,
    not to the user's balance, and its ledger row names the team (the balance check leaves
    it out of the user's sum). Someone outside the team, or a team that isn't there, is
    refused; a refund of the team's grant takes it from the team."""
    checked = unbalanced(fltr)
    before = state(fltr, "usr_51")
    change = ledger_credits.grant(fltr, "usr_51", parse(40, team="team 1"), OPERATOR)
    teams = dict(rows_sql(fltr, "SELECT id, credits FROM teams"))
    assert teams["team_50"] == dict(before[2])["team_50"] + 40 == change.new_credits
    assert state(fltr, "usr_51")[0] == before[0]
    assert (change.entry.team_id, change.entry.account) == ("team_50", "team")
    assert unbalanced(fltr) == checked
    for user, team, refusal in (
        ("usr_10", "Team 1", "not in team"),
        ("usr_50", "Team 99", "No team is named"),
    ):
        with pytest.raises((InputError, NotFoundError), match=refusal):
            ledger_credits.grant(fltr, user, parse(team=team, ref=f"T-{user}"), OPERATOR)
    taken = ledger_credits.refund(fltr, change.entry.id, "paid by mistake", OPERATOR)
    assert dict(rows_sql(fltr, "SELECT id, credits FROM teams"))["team_50"] == teams["team_50"] - 40
    assert (taken.entry.account, taken.entry.amount, taken.entry.refund_of) == (
        "team",
        -40,
        change.entry.id,
    )
    assert unbalanced(fltr) == checked


def test_a_refund_takes_one_grant_back_once_and_never_below_zero_unasked(
    fltr: Database,
) -> None:
    sign_up(fltr)
    granted = ledger_credits.grant(fltr, NEW, parse(25), OPERATOR).entry.id
    execute(
        fltr,
        "INSERT INTO credit_transactions (user_id, amount, type, operation) "
        f"VALUES ('{NEW}', -20, 'usage', 'mcp_query')",
        f"UPDATE user_credits SET credits = credits - 20 WHERE user_id = '{NEW}'",
    )
    plan = ledger_credits.preview_refund(fltr, granted)
    assert (plan.account.credits, plan.after, plan.below_zero) == (5, -20, True)
    with pytest.raises(InputError, match="would leave -20"):
        ledger_credits.refund(fltr, granted, "chargeback", OPERATOR)
    assert state(fltr)[0] == [(5, 25)]
    change = ledger_credits.refund(fltr, granted, "chargeback", OPERATOR, below_zero=True)
    assert state(fltr)[0] == [(-20, 0)] and change.new_credits == -20
    with pytest.raises(InputError, match="already refunded"):
        ledger_credits.refund(fltr, granted, "again", OPERATOR, below_zero=True)
    [[usage]] = rows_sql(
        fltr, f"SELECT id FROM credit_transactions WHERE type = 'usage' AND user_id = '{NEW}'"
    )
    with pytest.raises(InputError, match="only a grant"):
        ledger_credits.refund(fltr, usage, "no", OPERATOR)
    for bad in ("0", "-3", "1e3", "99999999999", "12 OR 1=1"):
        with pytest.raises(InputError, match="not a ledger row"):
            ledger_credits.preview_refund(fltr, bad)
    assert len(state(fltr)[1]) == 3


def test_two_operators_granting_one_payment_at_once_grant_it_once(fltr: Database) -> None:
    """Both pass their previews; the reference's lock makes the second wait for the first's
    COMMIT, then see its row and refuse."""
    sign_up(fltr)
    sign_up(fltr, "usr_other")
    results = _concurrently(
        [
            lambda user=user: ledger_credits.grant(fltr, user, parse(ref="BMC-RACE"), OPERATOR)
            for user in (NEW, "usr_other")
        ]
    )
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(refused) == 1 and "already on 1 ledger row" in str(refused[0])
    rows = rows_sql(
        fltr,
        "SELECT user_id FROM credit_transactions WHERE transaction_metadata IS NOT NULL "
        "AND amount = 25 AND type = 'purchase' AND user_id IN ('usr_new', 'usr_other')",
    )
    assert len(rows) == 1


def test_two_refunds_of_one_grant_at_once_take_it_back_once(fltr: Database) -> None:
    sign_up(fltr)
    granted = ledger_credits.grant(fltr, NEW, parse(25), OPERATOR).entry.id
    results = _concurrently(
        [lambda: ledger_credits.refund(fltr, granted, "twice?", OPERATOR) for _ in range(2)]
    )
    assert sum(isinstance(r, InputError) and "already refunded" in str(r) for r in results) == 1
    assert state(fltr)[:2] == ([(0, 0)], [(25, "purchase"), (-25, "refund")])


@pytest.fixture
def fltr_pg(pg_server, fltr_pg_template):
    yield from fltr_databases(pg_server, fltr_pg_template)


def test_a_grant_whose_connection_is_killed_between_its_writes_leaves_nothing(
    fltr_pg: Database,
) -> None:
    sign_up(fltr_pg)
    before = state(fltr_pg)
    killer = fltr_pg.on(MAIN, "test")

    def kill_the_grant() -> None:
        execute(
            killer,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'adminui' AND state = 'idle in transaction'",
        )

    with pytest.raises(ConnectionLostError, match="nothing was changed"):
        ledger_credits.grant(fltr_pg, NEW, parse(), OPERATOR, after_insert=kill_the_grant)
    assert state(fltr_pg) == before
    assert ledger_credits.preview_grant(fltr_pg, NEW, parse()).duplicates == ()


def test_a_grant_whose_commit_reply_is_lost_is_reported_committed_once(
    pg_server, fltr_pg: Database
) -> None:
    from dataclasses import replace

    from adminui import audit
    from tests.commit_cutter import commit_cutter

    sign_up(fltr_pg)
    with commit_cutter(pg_server.port) as cutter:
        proxied = Database(
            replace(fltr_pg.profile, url=fltr_pg.profile.url.set(port=cutter.port)),
            PG_PASSWORD,
            pack=fltr_pg.pack,
        )
        try:
            cutter.arm("cut")
            change = ledger_credits.grant(proxied, NEW, parse(), OPERATOR)
        finally:
            proxied.dispose()
        assert cutter.cut.is_set()
    assert change.warning and "committed (shown here)" in change.warning
    assert state(fltr_pg)[:2] == ([(25, 25)], [(25, "purchase")])
    [entry] = [w for w in audit.writes() if w["operation"] == "grant"]
    assert entry["outcome"] == "committed"
    with pytest.raises(InputError, match="already on 1 ledger row"):
        ledger_credits.grant(fltr_pg, NEW, parse(), OPERATOR)


def test_a_session_in_another_time_zone_stores_the_time_in_utc(
    fltr_pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PGTZ (or a role's TimeZone) changes how an aware time becomes a timestamp without a
    zone: the grant converts it itself, so the row says the UTC time it was made."""
    sign_up(fltr_pg)
    monkeypatch.setenv("PGTZ", "Pacific/Kiritimati")  # UTC+14
    db = Database(fltr_pg.profile, PG_PASSWORD, pack=fltr_pg.pack)
    try:
        change = ledger_credits.grant(db, NEW, parse(), OPERATOR)
    finally:
        db.dispose()
    monkeypatch.delenv("PGTZ")
    [[stored]] = rows_sql(
        fltr_pg, f"SELECT created_at FROM credit_transactions WHERE id = {change.entry.id}"
    )
    assert abs((stored.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()) < 120
    assert change.entry.created_at == stored.replace(tzinfo=UTC)


def test_the_cli_grants_and_refunds_with_fltr_s_own_names(fltr: Database, capsys) -> None:
    sign_up(fltr)
    urls = _cli_urls(fltr)
    assert main([*urls, "grant", NEW, "25", "--ref", "BMC-CLI", "--yes", "--format", "json"]) == 0
    granted = json.loads(capsys.readouterr().out)
    assert {
        "id",
        "user_id",
        "amount",
        "type",
        "reference",
        "previous_credits",
        "new_credits",
    } <= set(granted)
    assert (granted["amount"], granted["new_credits"], granted["balance"]) == (25, 25, "user")
    refund = [*urls, "refund", str(granted["id"]), "--reason", "test", "--yes", "--format", "json"]
    assert main(refund) == 0
    assert json.loads(capsys.readouterr().out)["refund_of"] == granted["id"]
    assert main([*urls, "grant", NEW, "25", "5.00", "--ref", "BMC-AMT", "--yes"]) == 1
    assert "keeps a ledger, not receipts" in capsys.readouterr().err
    assert main([*urls, "receipts", "pending"]) == 1
    assert "has no receipts job" in capsys.readouterr().err
    assert state(fltr)[:2] == ([(0, 0)], [(25, "purchase"), (-25, "refund")])


def test_idea_expansion_has_no_ledger_refund(db: Database, url: str, capsys) -> None:
    """Idea Expansion (recognised, not named) refuses fltr's refund in one line, and its grant
    without the payment's AMOUNT says what it needs; nothing is written."""
    before = count_sql(db, "SELECT COUNT(*) FROM payment_receipts")
    code, _, err = run(capsys, "--url", url, "refund", "1", "--reason", "x", "--yes")
    assert code == 1 and err.count("\n") == 1 and "has no refunds job" in err
    code, _, err = run(capsys, "--url", url, "grant", "a@b.c", "5", "--ref", "B-X", "--yes")
    assert code == 1 and "AMOUNT: required" in err
    assert count_sql(db, "SELECT COUNT(*) FROM payment_receipts") == before


def test_the_data_database_is_never_asked_for_a_grant(fltr: Database) -> None:
    """A grant is fltr_auth's alone: a profile without the fltr database grants all the same."""
    from adminui.config import Profile

    sign_up(fltr)
    password = PG_PASSWORD if fltr.dialect == "postgresql" else None
    alone = Database(Profile(name="fltr", url=fltr.profile.url), password, pack=fltr.pack)
    try:
        assert ledger_credits.grant(alone, NEW, parse(), OPERATOR).new_credits == 25
    finally:
        alone.dispose()
    assert DATA in fltr.pack.databases


async def test_the_grant_screen_writes_fltr_s_ledger_row(fltr: Database) -> None:
    """The user's detail, g: fltr's grant form (credits, type, team, reference), a preview with
    the balance before and after, the confirmation, and the receipt read back."""
    from tests.test_tui_credits import grant_on_screen

    sign_up(fltr)
    done = await grant_on_screen(fltr, NEW, *"30", "tab", *"bonus", "tab", "tab", *"GIFT-TUI")
    assert "Team" in done.labels and "0 → 30" in done.preview
    assert "New Credits:       30" in done.receipt and "Type:              bonus" in done.receipt
    assert state(fltr)[:2] == ([(30, 0)], [(30, "bonus")])


def test_a_grant_and_its_refund_go_to_the_id_as_stored_never_its_case_twin(
    fltr: Database,
) -> None:
    """Better Auth's ids are compared exactly: 'usr_Twin' and 'usr_twin' are two users, and
    the preview's id is the one the write moves (it was once lower-cased on the way). The
    demo's twins each hold a welcome bonus of 10."""
    twin = state(fltr, "usr_twin")[:2]
    assert twin == ([(10, 0)], [(10, "bonus")])
    preview = ledger_credits.preview_grant(fltr, "usr_Twin", parse(7, ref="BMC-TWIN"))
    assert preview.user_id == "usr_Twin"
    granted = ledger_credits.grant(fltr, preview.user_id, parse(7, ref="BMC-TWIN"), OPERATOR)
    assert state(fltr, "usr_Twin")[:2] == ([(17, 7)], [(10, "bonus"), (7, "purchase")])
    assert state(fltr, "usr_twin")[:2] == twin
    ledger_credits.refund(fltr, granted.entry.id, "twin check", OPERATOR)
    assert state(fltr, "usr_Twin")[1][-1] == (-7, "refund")
    assert state(fltr, "usr_Twin")[0] == [(10, 0)] and state(fltr, "usr_twin")[:2] == twin


def test_another_user_s_refund_row_naming_a_grant_does_not_block_its_refund(
    fltr: Database,
) -> None:
    """A refund row another program wrote for usr_2 that names NEW's grant: it is not NEW's
    refund, so NEW's grant is still refunded once, and then no more."""
    sign_up(fltr)
    granted = ledger_credits.grant(fltr, NEW, parse(25), OPERATOR).entry.id
    meta = json.dumps({"refund_of": str(granted)})
    execute(
        fltr,
        "INSERT INTO credit_transactions (user_id, amount, type, transaction_metadata) "
        f"VALUES ('usr_2', -25, 'refund', '{meta}')",
    )
    assert ledger_credits.preview_refund(fltr, granted).after == 0
    assert ledger_credits.refund(fltr, granted, "sent twice", OPERATOR).new_credits == 0
    with pytest.raises(InputError, match="already refunded"):
        ledger_credits.refund(fltr, granted, "again", OPERATOR, below_zero=True)
