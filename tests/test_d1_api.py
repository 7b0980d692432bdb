"""A D1 database over Cloudflare's HTTP API (issue 20), against the stand-in (tests/d1_standin.py):
d1:// profiles and their token, every failure of the API in one sentence (exit 2), a screen's
reads in one request, only vetted statements on the wire, and writes refused before anything
is sent (read-only profiles; and, until writes are built as guarded batches, every profile).

The pack tests (test_omnichat.py, test_filepath.py, and the screens' tests) run the same reads
on the SQLite file and through the stand-in: the `omnichat` and `filepath` fixtures do both."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adminui import d1_api
from adminui.config import Profile, normalize_url, parse_config
from adminui.d1_db import D1Database
from adminui.db import CancelledError
from adminui.errors import ReadOnlyError, SetupError
from adminui.ops import ledger_credits, users
from adminui.packs import pack_named
from tests.conftest import D1_FILES, d1_database, run, scalar
from tests.d1_standin import ACCOUNT, READ_TOKEN, TOKEN, D1StandIn

OMNICHAT = pack_named("omnichat")
DATABASE = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


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
    """A read-only profile refuses as everywhere; any other is read-only too until writes are
    guarded batches, saying why: either way the API is sent nothing."""
    grant = ledger_credits.parse_ledger_grant(5, "BMC-D1-1", max_credits=1000)
    read_only = d1_database(standin, DATABASE, OMNICHAT, read_only=True)
    try:
        sent = standin.requests
        with pytest.raises(ReadOnlyError, match=r"is read-only \(read_only = true\)"):
            ledger_credits.grant(read_only, "user_2N000003", grant, "op")
        with pytest.raises(ReadOnlyError, match=r"read-only \(writes over D1's HTTP API are not"):
            ledger_credits.grant(d1, "user_2N000003", grant, "op")
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
