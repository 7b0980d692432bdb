"""A D1 database over Cloudflare's HTTP API (issue 20), against the stand-in (tests/d1_standin.py):
d1:// profiles and their token, every failure of the API in one sentence (exit 2), a screen's
reads in one request, only vetted statements on the wire, and writes refused before anything
is sent (read-only profiles; and, until writes are built as guarded batches, every profile).

The pack tests (test_omnichat.py, test_filepath.py, and the screens' tests) run the same reads
on the SQLite file and through the stand-in: the `omnichat` and `filepath` fixtures do both."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adminui import audit, d1_api, remote
from adminui.config import Profile, normalize_url, parse_config
from adminui.d1_db import D1Database
from adminui.db import CancelledError
from adminui.errors import AdminError, InputError, OutcomeUnknownError, ReadOnlyError, SetupError
from adminui.ops import adjustments, backups, ledger_credits, orphans, users
from adminui.packs import pack_named
from tests.conftest import D1_FILES, d1_database, dump_tables, execute, rows, run, scalar
from tests.d1_standin import ACCOUNT, READ_TOKEN, TOKEN, D1StandIn

OMNICHAT = pack_named("omnichat")
DATABASE = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
NEW = "user_2N000003"  # a user of the fixture


@pytest.fixture
def standin(omnichat_file, d1_api: D1StandIn, monkeypatch) -> Iterator[D1StandIn]:
    """The session's stand-in serving a copy of OmniChat's fixture as DATABASE; the CLI's
    token and API address in the environment."""
    D1_FILES[DATABASE] = d1_api.databases[DATABASE] = Path(omnichat_file.profile.url.database)
    monkeypatch.setenv("ADMINUI_D1_API", d1_api.base)
    monkeypatch.setenv("ADMINUI_PASSWORD", TOKEN)
    yield d1_api
    d1_api.forget(DATABASE)
    del D1_FILES[DATABASE]


@pytest.fixture
def d1(standin: D1StandIn) -> Iterator[D1Database]:
    db = d1_database(standin, DATABASE, OMNICHAT)
    yield db
    db.dispose()


URL = f"d1://{ACCOUNT}/{DATABASE}"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    return run(capsys, "--url", URL, "--product", "omnichat", *argv)


@pytest.mark.parametrize(
    "raw",
    [
        f"d1://user:secret@{ACCOUNT}/{DATABASE}",
        f"d1://{ACCOUNT}:443/{DATABASE}",
        f"d1://{ACCOUNT}/{DATABASE}?token=x",
        f"d1://not-an-account/{DATABASE}",
        f"d1://{ACCOUNT}/my-database",
        f"d1://{ACCOUNT}",
    ],
)
def test_a_d1_url_is_the_account_and_the_database_alone(raw: str) -> None:
    with pytest.raises(SetupError, match="d1://ACCOUNT_ID/DATABASE_ID") as refused:
        normalize_url(raw, "--url")
    assert "secret" not in str(refused.value)


def test_a_d1_profile_names_its_database_and_speaks_sqlite(tmp_path: Path) -> None:
    upper = f"d1://{ACCOUNT.upper()}/{DATABASE.upper()}"
    config = parse_config(
        {"profiles": {"chat": {"url": upper, "d1_api": "https://proxy.example.com/v4"}}},
        tmp_path / "config.toml",
    )
    profile = config.profile("chat")
    assert (profile.d1, profile.dialect, profile.d1_api) == (
        True,
        "sqlite",
        "https://proxy.example.com/v4",
    )
    assert profile.where == f"the D1 database {DATABASE}"
    assert profile.url.host == ACCOUNT


def test_the_token_goes_only_over_https_or_to_this_machine(monkeypatch) -> None:
    monkeypatch.setenv("ADMINUI_D1_API", "http://api.example.com/client/v4")
    with pytest.raises(SetupError, match="must be https://"):
        d1_api.api_base(None)
    monkeypatch.setenv("ADMINUI_D1_API", "http://127.0.0.1:9/client/v4/")
    assert d1_api.api_base("https://ignored.example.com") == "http://127.0.0.1:9/client/v4"


def test_a_user_s_whole_screen_is_one_request_of_vetted_statements(
    d1: D1Database, standin: D1StandIn
) -> None:
    """The lookup resolves the user, then the detail's every statement goes in one batch; what
    reached the API is each time a vetted statement's text, its values bound by position."""
    user_id = users.resolve_user(d1, "user_2N000003")
    sent = standin.requests
    detail = users.get_user_detail(d1, user_id)
    assert standin.requests - sent == 1
    assert detail["email"] == scalar(d1, "SELECT email FROM users WHERE id = 'user_2N000003'")
    vetted = {d1.statement(name).numbered[0] for name in d1.registry.names()}
    bodies = standin.bodies[-2:]
    items = [item for body in bodies for item in body.get("batch", [body])]
    assert items and all(item["sql"] in vetted for item in items)
    assert "user_2N000003" in items[0]["params"] and "user_2N000003" not in items[0]["sql"]


def test_the_cli_reads_a_user_in_two_requests(standin: D1StandIn, capsys) -> None:
    """One resolves what the operator typed, one reads the user's every panel; with the
    product named nothing else is asked (a wrong token is told by the first)."""
    sent = standin.requests
    code, out, err = cli(capsys, "users", "show", "user_2N000003", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["id"] == "user_2N000003"
    assert standin.requests - sent == 2


def test_the_product_is_recognised_over_the_api(standin: D1StandIn, capsys) -> None:
    code, out, err = run(capsys, "--url", URL, "users", "find", "user_2N000003")
    assert code == 0, err
    assert "user_2N000003" in out


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"ADMINUI_PASSWORD": "wrong-token"}, r"refused the API token \(Authentication error\)"),
        ({"url": f"d1://{'f' * 32}/{DATABASE}"}, "did not allow it .*not valid or is not author"),
        ({"url": f"d1://{ACCOUNT}/{'0' * 8}-0000-4000-8000-{'0' * 12}"}, "knows no database"),
        ({"rate_limit": 0}, r"refusing requests for now .*HTTP 429\): try again in 7 s"),
        ({"overloaded": True}, "D1 DB is overloaded. Requests queued for too long"),
        ({"drop_reply": True}, "failed \\(RemoteProtocolError\\); nothing was changed"),
    ],
)
def test_every_failure_of_the_api_is_one_sentence_and_exit_2(
    standin: D1StandIn, capsys, monkeypatch, change: dict, said: str
) -> None:
    url = change.pop("url", URL)
    for key, value in change.items():
        if key.isupper():
            monkeypatch.setenv(key, value)
        else:
            monkeypatch.setattr(standin, key, value)
    code, out, err = run(capsys, "--url", url, "--product", "omnichat", "users", "find", "user")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(said, err), err
    assert "wrong-token" not in err and TOKEN not in err


def test_a_reply_too_late_is_a_timeout_not_a_hang(standin: D1StandIn, monkeypatch, capsys):
    monkeypatch.setattr(d1_api, "TIMEOUT", 0.5)
    monkeypatch.setattr(standin, "latency", 2.0)
    code, _, err = cli(capsys, "users", "find", "user")
    assert code == 2 and "timed out; nothing was changed" in err


def test_d1_s_own_error_text_is_said(d1: D1Database, standin: D1StandIn) -> None:
    """A database without a table the product's statements read: D1's own words."""
    with sqlite3.connect(standin.databases[DATABASE]) as conn:
        conn.execute("DROP TABLE api_usage")
    with pytest.raises(SetupError, match=r"D1 refused it: no such table: .*SQLITE_ERROR"):
        users.get_user_detail(d1, "user_2N000003")


def test_writes_are_refused_before_anything_is_sent(d1: D1Database, standin: D1StandIn) -> None:
    """A read-only profile refuses a grant as everywhere; a write transaction held open (what
    no op asks of D1, whose writes are batches) is refused on any profile, saying so: either
    way the API is sent no write."""
    grant = ledger_credits.parse_ledger_grant(5, "BMC-D1-1", max_credits=1000)
    preview = ledger_credits.preview_grant(d1, NEW, grant)
    read_only = d1_database(standin, DATABASE, OMNICHAT, read_only=True)
    try:
        sent = standin.requests
        with pytest.raises(ReadOnlyError, match=r"is read-only \(read_only = true\)"):
            ledger_credits.grant(read_only, NEW, grant, "op", preview=preview)
        with pytest.raises(SetupError, match="not built for D1's HTTP API yet"):
            d1.write()
        assert standin.requests == sent
    finally:
        read_only.dispose()


def test_a_read_only_token_is_told_by_the_api(standin: D1StandIn) -> None:
    """D1 Read tokens read; the API is what refuses their writes (not reachable from adminui,
    which sends none: asked of the stand-in directly)."""
    url = normalize_url(URL, "test")
    db = D1Database(Profile("ro", url, d1_api=standin.base), READ_TOKEN, pack=OMNICHAT)
    try:
        assert db.rows("get_user", user_id="user_2N000003")
    finally:
        db.dispose()
    client = d1_api.D1Client(ACCOUNT, DATABASE, READ_TOKEN, standin.base)
    try:
        with pytest.raises(SetupError, match=r"did not allow it.*read-only"):
            client.query([("DELETE FROM users WHERE id = ?1", ["user_2N000003"])], writing=True)
    finally:
        client.close()


def test_a_bad_token_in_the_environment_is_refused_before_sending(standin, capsys, monkeypatch):
    monkeypatch.setenv("ADMINUI_PASSWORD", "tok\u00e9n")
    sent = standin.requests
    code, _, err = cli(capsys, "users", "find", "user")
    assert code == 2 and "printable ASCII" in err and standin.requests == sent


def test_credits_preview_reads_over_the_api(d1: D1Database) -> None:
    """What the grant screen shows before the operator confirms reads through the API."""
    grant = ledger_credits.parse_ledger_grant(5, "BMC-D1-2", max_credits=1000)
    preview = ledger_credits.preview_grant(d1, "user_2N000003", grant)
    balance = "SELECT total_balance FROM user_battery WHERE user_id = 'user_2N000003'"
    assert preview.before.credits == scalar(d1, balance)
    assert preview.after == preview.before.credits + 5


def test_esc_drops_the_answer_of_a_request_under_way(d1: D1Database, standin, monkeypatch):
    """A request can't be stopped on D1's side; Esc marks it stopped, and its answer, when it
    comes, is dropped: the screen is told it was stopped, not shown rows it no longer wants."""
    monkeypatch.setattr(standin, "latency", 0.5)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            users.get_user_detail(d1, "user_2N000003")
        except BaseException as error:  # handed to the test
            outcome.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    deadline = time.monotonic() + 5
    while d1.running == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert d1.cancel_running() == 1
    thread.join(10)
    assert [type(e) for e in outcome] == [CancelledError] and d1.running == 0
    assert users.get_user_detail(d1, "user_2N000003")["id"] == "user_2N000003"


# Writes: one batch each, guarded (OmniChat's grant).


def _grant(reference: str, credits: int = 5) -> ledger_credits.LedgerGrantInput:
    return ledger_credits.parse_ledger_grant(credits, reference, max_credits=1000)


def _ledger(db: D1Database) -> list[dict]:
    return rows(db, "SELECT * FROM battery_transactions ORDER BY id")


def _balances(db: D1Database) -> list[dict]:
    return rows(db, "SELECT * FROM user_battery ORDER BY user_id")


@pytest.fixture
def audit_log(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(path))
    return path


def test_the_cli_grants_in_three_requests_and_says_what_the_database_holds(
    standin: D1StandIn, audit_log: Path, capsys
) -> None:
    """Resolve, preview (one request each), then the write: one batch, its guards, the
    writes and their read-back; its audit intent on disk before it was sent."""
    sent = standin.requests
    code, out, err = cli(capsys, "grant", NEW, "25", "--ref", "BMC-D1-CLI", "--yes")
    assert code == 0, err
    assert standin.requests - sent == 3
    [batch] = [b for b in standin.bodies[-1:] if "batch" in b]
    assert [item["sql"].split()[0] for item in batch["batch"]] == [
        "INSERT",
        "INSERT",
        "UPDATE",
        "SELECT",
        "SELECT",
    ]
    [line] = audit.writes(audit_log)
    [row] = [r for r in rows_of_reference(standin, "BMC-D1-CLI")]
    assert line["outcome"] == "committed" and line["ids"]["transaction_id"] == row["id"]
    assert f"Transaction ID:    {row['id']}" in out and row["amount"] == 25


def rows_of_reference(standin: D1StandIn, reference: str) -> list[dict]:
    with sqlite3.connect(standin.databases[DATABASE]) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(
            "SELECT * FROM battery_transactions WHERE metadata LIKE ?", (f"%{reference}%",)
        )
        return [dict(r) for r in found]


def _prepared(d1: D1Database, operation: str) -> Callable[[], object]:
    """A grant or a refund, previewed; the write left to call."""
    if operation == "grant":
        preview = ledger_credits.preview_grant(d1, NEW, _grant("BMC-D1-WRITE"))
        return lambda: ledger_credits.grant(d1, NEW, preview.grant, "op", preview=preview)
    granted = ledger_credits.grant(d1, NEW, _grant("BMC-D1-REFUND"), "op").entry.id
    plan = ledger_credits.preview_refund(d1, granted)
    return lambda: ledger_credits.refund(d1, granted, "charged back", "op", plan=plan)


@pytest.mark.parametrize(
    ("operation", "failing"),
    [("grant", n) for n in range(1, 6)] + [("refund", n) for n in range(1, 5)],
)
def test_a_batch_failing_at_any_statement_lands_nothing(
    d1: D1Database, standin: D1StandIn, audit_log: Path, monkeypatch, operation: str, failing: int
) -> None:
    """The stand-in fails the Nth statement of the batch after the ones before it ran (D1
    rolls the whole batch back): not a row, not a unit moved; the audit line says rolled back."""
    write = _prepared(d1, operation)
    ledger, balances = _ledger(d1), _balances(d1)
    monkeypatch.setattr(standin, "fail_statement", failing)
    with pytest.raises(SetupError, match="D1 refused it: injected failure"):
        write()
    assert (_ledger(d1), _balances(d1)) == (ledger, balances)
    assert audit.writes(audit_log)[-1]["outcome"] == "rolled back"


@pytest.mark.parametrize("operation", ["grant", "refund"])
def test_a_balance_moved_since_the_preview_changes_nothing(
    d1: D1Database, audit_log: Path, operation: str
) -> None:
    """The user spent battery between the preview and the write: the guard holds the batch
    back whole, and says what moved."""
    write = _prepared(d1, operation)
    [before] = [b["total_balance"] for b in _balances(d1) if b["user_id"] == NEW]
    execute(
        d1, "UPDATE user_battery SET total_balance = total_balance - 7 WHERE user_id = :u", u=NEW
    )
    ledger, balances = _ledger(d1), _balances(d1)
    said = rf"the balance moved since the preview \({before:,} then, {before - 7:,} now\)"
    with pytest.raises(InputError, match=said):
        write()
    assert (_ledger(d1), _balances(d1)) == (ledger, balances)
    assert audit.writes(audit_log)[-1]["outcome"] == "rolled back"


def test_a_refund_written_since_the_preview_is_not_written_twice(d1: D1Database) -> None:
    """Two refunds of one grant, both previewed first: the second's batch finds the balance
    moved (its guard), and changes nothing."""
    granted = ledger_credits.grant(d1, NEW, _grant("BMC-D1-TWICE"), "op").entry.id
    plans = [ledger_credits.preview_refund(d1, granted) for _ in range(2)]
    ledger_credits.refund(d1, granted, "charged back", "op", plan=plans[0])
    ledger = _ledger(d1)
    with pytest.raises(InputError, match="nothing was changed"):
        ledger_credits.refund(d1, granted, "again", "op", plan=plans[1])
    assert _ledger(d1) == ledger


@pytest.mark.parametrize("written_as", ["metadata", "payment intent"])
def test_a_grant_of_the_reference_written_since_the_preview_changes_nothing(
    d1: D1Database, written_as: str
) -> None:
    """Another operator's grant (its metadata), or the app's own row of the payment (its
    Stripe payment intent), written between the preview and the write: nothing is written."""
    preview = ledger_credits.preview_grant(d1, NEW, _grant("pi_D1_RACE"))
    column = "metadata" if written_as == "metadata" else "stripe_payment_intent_id"
    value = '{"reference": "PI_d1_race "}' if written_as == "metadata" else " pi_D1_race"
    execute(
        d1,
        f"INSERT INTO battery_transactions (id, user_id, type, amount, {column}) "
        "VALUES ('other', 'user_2N000020', 'purchase', 5, :v)",
        v=value,
    )
    ledger, balances = _ledger(d1), _balances(d1)
    with pytest.raises(InputError, match="a grant of 'pi_D1_RACE' was written since the preview"):
        ledger_credits.grant(d1, NEW, preview.grant, "op", preview=preview)
    assert (_ledger(d1), _balances(d1)) == (ledger, balances)


def test_an_override_covers_the_rows_seen_and_no_other(d1: D1Database) -> None:
    """Overriding a duplicate the operator saw writes; one more appearing since is refused."""
    first = ledger_credits.grant(d1, NEW, _grant("BMC-D1-DUP"), "op")
    again = ledger_credits.parse_ledger_grant(
        5, "BMC-D1-DUP", override_reason="second coffee", max_credits=1000
    )
    preview = ledger_credits.preview_grant(d1, NEW, again)
    assert preview.duplicate_ids == {first.entry.id}
    ledger_credits.grant(
        d1, NEW, again, "op", seen_duplicates=preview.duplicate_ids, preview=preview
    )
    stale = ledger_credits.preview_grant(d1, NEW, again)
    ledger_credits.grant(d1, NEW, again, "op", seen_duplicates=stale.duplicate_ids, preview=stale)
    ledger = _ledger(d1)
    with pytest.raises(InputError):  # the preview saw two; three are there now
        ledger_credits.grant(
            d1, NEW, again, "op", seen_duplicates=stale.duplicate_ids, preview=stale
        )
    assert _ledger(d1) == ledger


def test_a_reply_lost_after_the_batch_ran_is_read_back(
    d1: D1Database, standin: D1StandIn, audit_log: Path, monkeypatch
) -> None:
    """The batch ran and its connection closed with no reply: the outcome is not guessed; the
    ledger row is looked up by the id the batch wrote, found, and shown, once."""
    preview = ledger_credits.preview_grant(d1, NEW, _grant("BMC-D1-LOST"))
    monkeypatch.setattr(standin, "drop_reply", True)
    change = ledger_credits.grant(d1, NEW, preview.grant, "op", preview=preview)
    assert change.warning and "Read back since, the grant is there" in change.warning
    [row] = rows_of_reference(standin, "BMC-D1-LOST")
    assert row["id"] == change.entry.id and change.new_credits == preview.before.credits + 5
    [line] = audit.writes(audit_log)
    assert line["outcome"] == "committed" and "reply lost" in line["outcome_detail"]


def test_a_write_with_a_read_only_token_is_refused_by_the_api(
    standin, audit_log, monkeypatch, capsys
):
    """A D1 Read token: the preview reads, the API refuses the batch, nothing is written."""
    monkeypatch.setenv("ADMINUI_PASSWORD", READ_TOKEN)
    before = rows_of_reference(standin, "BMC-D1-RO")
    code, _, err = cli(capsys, "grant", NEW, "5", "--ref", "BMC-D1-RO", "--yes")
    assert code == 2 and "did not allow it" in err and "read-only (D1 Read)" in err
    assert rows_of_reference(standin, "BMC-D1-RO") == before == []
    assert audit.writes(audit_log)[0]["outcome"] == "rolled back"


def test_only_vetted_statements_carry_a_hostile_reference(d1: D1Database, standin) -> None:
    """A reference made to break out of a string travels as a bound value; what reached the
    API is the registry's text, statement for statement."""
    hostile = "x'); DELETE FROM users; --"
    first = len(standin.bodies)
    change = ledger_credits.grant(d1, NEW, _grant(hostile), "op")
    assert change.entry.reference == hostile
    vetted = {d1.statement(name).numbered[0] for name in d1.registry.names()}
    items = [item for body in standin.bodies[first:] for item in body.get("batch", [body])]
    assert len(items) == 3 + 5  # the preview's three reads, the batch's five
    assert all(item["sql"] in vetted for item in items)
    assert scalar(d1, "SELECT count(*) FROM users") > 0


# filepath's adjustment: one batch, the move guarded by the balance previewed.

FILEPATH = pack_named("filepath")
JORDAN = "fp_usr_jordan"  # seed 000's test user, 1,000 credits


@pytest.fixture
def filepath_d1(filepath_file, d1_api: D1StandIn) -> Iterator[D1Database]:
    database = d1_api.serve(Path(filepath_file.profile.url.database), str(uuid.uuid4()))
    D1_FILES[database] = d1_api.databases[database]
    db = d1_database(d1_api, database, FILEPATH)
    yield db
    db.dispose()
    d1_api.forget(database)
    del D1_FILES[database]


def _jordan(db: D1Database) -> int:
    return int(scalar(db, "SELECT credit_balance FROM user WHERE id = :u", u=JORDAN))


def _adjusting(db: D1Database, credits: str = "+250") -> Callable[[], object]:
    change = adjustments.parse_adjustment(credits, "BMC coffee", max_credits=10_000)
    preview = adjustments.preview_adjustment(db, JORDAN, change)
    return lambda: adjustments.adjust(db, JORDAN, change, "op", preview=preview)


@pytest.mark.parametrize("failing", [1, 2])
def test_an_adjustment_failing_at_either_statement_moves_nothing(
    filepath_d1: D1Database, d1_api: D1StandIn, audit_log: Path, monkeypatch, failing: int
) -> None:
    adjust = _adjusting(filepath_d1)
    monkeypatch.setattr(d1_api, "fail_statement", failing)
    with pytest.raises(SetupError, match="injected failure"):
        adjust()
    assert _jordan(filepath_d1) == 1000
    assert audit.writes(audit_log)[-1]["outcome"] == "rolled back"


def test_an_adjustment_whose_balance_moved_since_the_preview_moves_nothing(
    filepath_d1: D1Database, audit_log: Path
) -> None:
    adjust = _adjusting(filepath_d1)
    execute(filepath_d1, "UPDATE user SET credit_balance = 990 WHERE id = :u", u=JORDAN)
    with pytest.raises(
        InputError, match=r"balance moved since the preview \(1,000 then, 990 now\)"
    ):
        adjust()
    assert _jordan(filepath_d1) == 990
    done = adjustments.adjust(
        filepath_d1, JORDAN, adjustments.parse_adjustment("+10", "again", max_credits=100), "op"
    )
    assert (done.previous, done.new) == (990, 1000) == (990, _jordan(filepath_d1))
    assert [w["outcome"] for w in audit.writes(audit_log)] == ["rolled back", "committed"]


def test_an_adjustment_whose_reply_is_lost_is_not_guessed(
    filepath_d1: D1Database, d1_api: D1StandIn, audit_log: Path, monkeypatch
) -> None:
    """No ledger row to look up: the balance alone can't tell whose move it was. The outcome
    is unknown (exit 3), the audit line says so, and the move did land exactly once."""
    adjust = _adjusting(filepath_d1)
    monkeypatch.setattr(d1_api, "drop_reply", True)
    with pytest.raises(
        OutcomeUnknownError, match=r"nothing to read it back by .*look before trying again"
    ) as lost:
        adjust()
    assert lost.value.exit_code == 3
    assert _jordan(filepath_d1) == 1250
    assert audit.writes(audit_log)[-1]["outcome"] == "unknown"


# What a review's attacks found (each failed before its fix).


def test_esc_during_a_write_does_not_drop_what_it_did(
    d1: D1Database, standin: D1StandIn, audit_log: Path, monkeypatch
) -> None:
    """Esc stops reads; a write's batch may have committed by the time its answer comes, so
    its answer is kept and the grant is reported (and logged) as done."""
    preview = ledger_credits.preview_grant(d1, NEW, _grant("BMC-D1-ESC"))
    monkeypatch.setattr(standin, "latency", 0.5)
    done: list[object] = []
    thread = threading.Thread(
        target=lambda: done.append(
            ledger_credits.grant(d1, NEW, preview.grant, "op", preview=preview)
        )
    )
    thread.start()
    deadline = time.monotonic() + 5
    while d1.running == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    d1.cancel_running()
    thread.join(10)
    [row] = rows_of_reference(standin, "BMC-D1-ESC")
    assert [c.entry.id for c in done] == [row["id"]]  # type: ignore[attr-defined]
    assert audit.writes(audit_log)[-1]["outcome"] == "committed"


@pytest.mark.parametrize("operation", ["grant", "adjust"])
def test_a_gateway_error_after_the_batch_ran_is_not_called_nothing_changed(
    d1: D1Database, filepath_d1: D1Database, standin: D1StandIn, audit_log: Path, operation: str
) -> None:
    """A 502 page (Cloudflare's edge, after D1 ran the batch) is no refusal D1 documents: the
    grant is looked up by its row and found; the adjustment, which has no row, is unknown, and
    its reference is then refused as a repeat (the audit log is its only record)."""
    if operation == "grant":
        preview = ledger_credits.preview_grant(d1, NEW, _grant("BMC-D1-502"))
        standin.bad_gateway = True
        change = ledger_credits.grant(d1, NEW, preview.grant, "op", preview=preview)
        assert change.warning and "HTTP 502" in change.warning
        assert [r["id"] for r in rows_of_reference(standin, "BMC-D1-502")] == [change.entry.id]
        assert audit.writes(audit_log)[-1]["outcome"] == "committed"
        return
    change = adjustments.parse_adjustment("+250", "coffee", "BMC-D1-502", max_credits=1000)
    preview = adjustments.preview_adjustment(filepath_d1, JORDAN, change)
    standin.bad_gateway = True
    with pytest.raises(OutcomeUnknownError, match=r"HTTP 502 .* nothing to read it back by"):
        adjustments.adjust(filepath_d1, JORDAN, change, "op", preview=preview)
    assert _jordan(filepath_d1) == 1250 and audit.writes(audit_log)[-1]["outcome"] == "unknown"
    again = adjustments.preview_adjustment(filepath_d1, JORDAN, change)
    with pytest.raises(InputError, match="is on 1 adjustment"):
        adjustments.adjust(filepath_d1, JORDAN, change, "op", preview=again)
    assert _jordan(filepath_d1) == 1250


def test_ctrl_c_while_a_batch_is_awaited_is_not_a_rollback(
    filepath_d1: D1Database, d1_api: D1StandIn, audit_log: Path, monkeypatch
) -> None:
    """Ctrl-C after the batch was sent: it may have run (here it did); not "rolled back"."""
    change = adjustments.parse_adjustment("+250", "coffee", "BMC-D1-INT", max_credits=1000)
    preview = adjustments.preview_adjustment(filepath_d1, JORDAN, change)
    monkeypatch.setattr(d1_api, "latency", 0.8)
    sent = d1_api.requests

    def interrupt_once_sent() -> None:  # not before: a Ctrl-C then is the operator's to have
        deadline = time.monotonic() + 5
        while d1_api.requests == sent and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_sent, daemon=True).start()
    with pytest.raises(OutcomeUnknownError, match="Interrupted while"):
        adjustments.adjust(filepath_d1, JORDAN, change, "op", preview=preview)
    monkeypatch.setattr(d1_api, "latency", 0.0)
    time.sleep(1)  # the stand-in finishes the request the client stopped waiting for
    assert _jordan(filepath_d1) == 1250 and audit.writes(audit_log)[-1]["outcome"] == "unknown"


@pytest.mark.parametrize("stored", ["0", "7.5", "'abc'"])
def test_a_balance_row_made_since_a_preview_that_saw_none_holds_the_grant_back(
    d1: D1Database, audit_log: Path, stored: str
) -> None:
    """The preview saw no balance row; one made since (by the app: 0; or by hand: 7.5, 'abc')
    is not "no row": nothing is granted onto it, and the refusal says what is there."""
    user = str(
        scalar(
            d1,
            "SELECT id FROM users u WHERE NOT EXISTS "
            "(SELECT 1 FROM user_battery b WHERE b.user_id = u.id) ORDER BY id LIMIT 1",
        )
    )
    preview = ledger_credits.preview_grant(d1, user, _grant(f"BMC-D1-ROW-{len(stored)}"))
    assert not preview.before.exists
    execute(d1, f"INSERT INTO user_battery (user_id, total_balance) VALUES (:u, {stored})", u=user)
    ledger = _ledger(d1)
    said = (
        "balance moved since the preview \\(no balance row then, 0 now\\)"
        if stored == "0"
        else "not a whole number"
    )
    with pytest.raises(InputError, match=said):
        ledger_credits.grant(d1, user, preview.grant, "op", preview=preview)
    assert _ledger(d1) == ledger
    assert audit.writes(audit_log)[-1]["outcome"] == "rolled back"


def test_a_user_gone_since_the_preview_is_said_so(d1: D1Database) -> None:
    preview = ledger_credits.preview_grant(d1, NEW, _grant("BMC-D1-GONE"))
    execute(d1, "DELETE FROM users WHERE id = :u", u=NEW)  # a plain connection: no cascade
    with pytest.raises(InputError, match=f"nothing was changed: No user has the id {NEW}"):
        ledger_credits.grant(d1, NEW, preview.grant, "op", preview=preview)


def test_the_token_never_goes_through_a_proxy_in_clear(d1: D1Database, monkeypatch) -> None:
    """HTTP_PROXY set, the API on http://127.0.0.1: the request goes straight to it (a proxy
    would read the Bearer token in clear); over https a proxy may tunnel it."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    fresh = D1Database(d1.profile, TOKEN, pack=OMNICHAT)
    try:
        assert fresh.rows("get_user", user_id=NEW)
    finally:
        fresh.dispose()
    assert not remote.proxies_allowed("http://127.0.0.1:9/client/v4")
    assert remote.proxies_allowed("https://api.cloudflare.com/client/v4")


# The orphan clean over the API: chunks, each one guarded batch; the backup first; restore.

ORPHANED = ("conversations.userId", "api_usage.user_id", "user_battery.user_id")


def _backed_up(db: D1Database, name: str, folder: Path) -> orphans.Backup:
    check = orphans.get_check(name, OMNICHAT)
    return backups.backup(db, check, folder / f"{name}.jsonl", include_dependents=True)


@pytest.mark.parametrize("name", ORPHANED)
def test_a_clean_over_the_api_and_its_restore_give_back_every_row(
    d1: D1Database, standin: D1StandIn, audit_log: Path, tmp_path: Path, monkeypatch, name: str
) -> None:
    """In chunks of two (each a batch), dependents included; restore puts back every row,
    value for value (the stand-in serving the file as a database whose schema declares no
    foreign keys, which is where D1's orphans come from)."""
    monkeypatch.setattr(standin, "foreign_keys", False)
    monkeypatch.setattr(orphans, "D1_CHUNK", 2)
    before = dump_tables(d1, OMNICHAT)
    saved = _backed_up(d1, name, tmp_path)
    result = orphans.clean(d1, saved, "op")
    assert (result.acted_on, result.remaining) == (len(saved.ids), 0)
    assert dump_tables(d1, OMNICHAT) != before
    parts = [w for w in audit.writes(audit_log) if w["operation"].startswith("orphans.clean")]
    assert len(parts) == -(-len(saved.ids) // 2) and {w["outcome"] for w in parts} == {"committed"}
    restored = backups.restore(d1, backups.read_backup(saved.path), "op")
    assert restored.refused == () and dump_tables(d1, OMNICHAT) == before


def test_a_clean_stopped_between_batches_is_restored_whole(
    d1: D1Database, standin: D1StandIn, tmp_path: Path, monkeypatch
) -> None:
    """The second batch fails (D1 rolls it back): the first stays done, whole; the message
    says so; restore puts back what the committed batch removed, and only that."""
    monkeypatch.setattr(standin, "foreign_keys", False)
    monkeypatch.setattr(orphans, "D1_CHUNK", 1)
    before = dump_tables(d1, OMNICHAT)
    saved = _backed_up(d1, "conversations.userId", tmp_path)
    assert len(saved.ids) == 2
    fail_next = lambda done, _total: setattr(standin, "fail_statement", 1)  # noqa: E731
    with pytest.raises(AdminError, match=r"Batch 2 of the clean was not applied: .*1 of the 2"):
        orphans.clean(d1, saved, "op", progress=fail_next)
    restored = backups.restore(d1, backups.read_backup(saved.path), "op")
    assert restored.refused == ()  # the untouched row is not asked for
    assert dump_tables(d1, OMNICHAT) == before


@pytest.mark.parametrize("since", ["a parent came back", "a new dependent"])
def test_rows_changed_since_the_backup_are_not_cleaned(
    d1: D1Database, standin: D1StandIn, tmp_path: Path, monkeypatch, since: str
) -> None:
    monkeypatch.setattr(standin, "foreign_keys", False)
    saved = _backed_up(d1, "conversations.userId", tmp_path)
    [row] = rows(d1, "SELECT userId FROM conversations WHERE id = :c", c=saved.ids[0])
    if since == "a parent came back":
        execute(
            d1,
            "INSERT INTO users (id, email, name) VALUES (:u, 'back@example.com', 'Back')",
            u=row["userId"],
        )
        said = "Batch 1 of the clean was not applied: its rows changed since the backup"
    else:
        execute(
            d1,
            "INSERT INTO messages (id, conversationId, role, content) "
            "VALUES ('late', :c, 'user', 'hello?')",
            c=saved.ids[0],
        )
        said = "Batch 1 of the clean was not applied: rows pointing at these conversations rows"
    state = dump_tables(d1, OMNICHAT)
    with pytest.raises(AdminError, match=said):
        orphans.clean(d1, saved, "op")
    assert dump_tables(d1, OMNICHAT) == state


def test_restoring_orphans_where_d1_enforces_their_key_is_refused_whole(
    d1: D1Database, standin: D1StandIn, tmp_path: Path
) -> None:
    """A schema that declares the key (D1 enforces it): the clean works; putting orphans back
    can't (their parent is gone), and nothing of the restore lands."""
    saved = _backed_up(d1, "conversations.userId", tmp_path)
    orphans.clean(d1, saved, "op")
    after = dump_tables(d1, OMNICHAT)
    with pytest.raises(SetupError, match="FOREIGN KEY constraint failed"):
        backups.restore(d1, backups.read_backup(saved.path), "op")
    assert dump_tables(d1, OMNICHAT) == after


@pytest.mark.parametrize("switch", ["drop_write_reply", "bad_gateway"])
def test_a_clean_batch_whose_reply_is_lost_is_settled_by_its_guard(
    d1: D1Database, standin: D1StandIn, audit_log: Path, tmp_path: Path, monkeypatch, switch: str
) -> None:
    """The batch ran, its reply never came: its guard, asked again, fails (the rows are gone),
    so it did apply, whole: said and logged as committed, and the backup restores it."""
    monkeypatch.setattr(standin, "foreign_keys", False)
    before = dump_tables(d1, OMNICHAT)
    saved = _backed_up(d1, "conversations.userId", tmp_path)
    monkeypatch.setattr(standin, switch, True)
    result = orphans.clean(d1, saved, "op")
    assert result.acted_on == len(saved.ids) and result.warning
    assert "Read back since" in result.warning
    assert [w["outcome"] for w in audit.writes(audit_log)] == ["committed"]
    backups.restore(d1, backups.read_backup(saved.path), "op")
    assert dump_tables(d1, OMNICHAT) == before
    restore = audit.writes(audit_log)[-1]
    assert restore["outcome"] == "committed" and "restored" in restore["outcome_detail"]


def test_a_backed_up_row_deleted_elsewhere_before_the_clean_is_said(
    d1: D1Database, standin: D1StandIn, tmp_path: Path, monkeypatch
) -> None:
    """A message of an orphan conversation deleted by the app between the backup and the
    clean: the clean goes on (the rows it acts on are exactly those there), and says so."""
    monkeypatch.setattr(standin, "foreign_keys", False)
    orphan = scalar(
        d1,
        "SELECT id FROM conversations c WHERE NOT EXISTS "
        "(SELECT 1 FROM users u WHERE u.id = c.userId) ORDER BY id LIMIT 1",
    )
    for message in ("m_one", "m_two"):
        execute(
            d1,
            "INSERT INTO messages (id, conversationId, role, content) VALUES (:m, :c, 'user', 'x')",
            m=message,
            c=orphan,
        )
    saved = _backed_up(d1, "conversations.userId", tmp_path)
    execute(d1, "DELETE FROM messages WHERE id = 'm_one'")
    result = orphans.clean(d1, saved, "op")
    assert result.acted_on == len(saved.ids)
    assert result.warning and "1 backed-up rows that pointed at them were gone" in result.warning


@pytest.mark.parametrize(
    "name", ["session.user_id", "account.user_id", "passkey.user_id", "apikey.user_id"]
)
def test_filepath_s_cleans_over_the_api(
    filepath_d1: D1Database, d1_api: D1StandIn, tmp_path: Path, monkeypatch, name: str
) -> None:
    """filepath's orphans cleaned over the API (in chunks of one), and put back where adminui
    reads the rows whole; where it never reads some columns (a session's token, a key's hash),
    the restore is refused before anything is sent, as on the file."""
    monkeypatch.setattr(d1_api, "foreign_keys", False)
    monkeypatch.setattr(orphans, "D1_CHUNK", 1)
    before = dump_tables(filepath_d1, FILEPATH)
    check = orphans.get_check(name, FILEPATH)
    saved = backups.backup(filepath_d1, check, tmp_path / "b.jsonl", include_dependents=True)
    result = orphans.clean(filepath_d1, saved, "op")
    assert (result.acted_on, result.remaining) == (len(saved.ids), 0) and saved.ids
    sent = d1_api.requests
    if not check.restorable:
        with pytest.raises(InputError, match="can't be restored"):
            backups.restore(filepath_d1, backups.read_backup(saved.path), "op")
        assert d1_api.requests == sent
        return
    backups.restore(filepath_d1, backups.read_backup(saved.path), "op")
    assert dump_tables(filepath_d1, FILEPATH) == before
