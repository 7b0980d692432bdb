"""Fuzzing every input the app accepts, through the ops layer and the CLI, on both dialects:
arbitrary unicode, NUL, 100 KB strings, SQL and LIKE metacharacters, Rich markup. The only
acceptable outcomes are an answer or an AdminError with one sentence for the operator; never a
crash, never a raw driver error, and never a write from refused input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adminui.cli import main
from adminui.db import Database
from adminui.errors import AdminError, DatabaseError
from adminui.ops import credits, executions, orphans, payments, users
from adminui.ops.windows import parse_since, parse_window
from tests.conftest import scalar

EXAMPLES = 150
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%",
    "_",
    "\\",
    "%_\\%",
    "'",
    "''; DROP TABLE users; --",
    "1 OR 1=1",
    ":limit",
    "[bold]x[/bold]",
    "[/]",
    "\x1b[31mred",
    "\r\n\t",
    "é" * 3,
    "ß",
    "İ",
    "😀" * 5,
    "x" * 100_000,
    "-1",
    "0",
    "1e9",
    "NaN",
    "Infinity",
    "9" * 40,
    "0.001",
    "5.005",
    "-5.00",
    "24h",
    "-7d",
    "99999999d",
    "2026-13-01",
    "0000-00-00",
    str(uuid.uuid4()),
    str(uuid.uuid4()).upper(),
    "ffff",
    "00000000-0000-0000-0000-000000000000",
]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=200), st.text(min_size=3, max_size=8))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WRITES = "SELECT COUNT(*) FROM payment_receipts"


def answered_or_refused(call: Callable[[], Any]) -> None:
    """The call answers, or refuses with an operator's sentence (not a database's refusal)."""
    try:
        call()
    except DatabaseError as error:  # the database refused what the app should have caught
        pytest.fail(f"the database saw refused input: {error}")
    except AdminError as error:
        assert str(error) and "\n" not in str(error).strip()


@FUZZ
@given(text=TEXT)
def test_search_text(db: Database, text: str) -> None:
    answered_or_refused(lambda: users.find_users(db, text))
    answered_or_refused(lambda: payments.list_payments(db, search=text))


@FUZZ
@given(key=TEXT)
def test_ids_and_emails(db: Database, key: str) -> None:
    answered_or_refused(lambda: users.resolve_user(db, key))
    answered_or_refused(lambda: credits.get_receipt(db, key))
    answered_or_refused(lambda: executions.get_execution(db, key))
    answered_or_refused(lambda: orphans.get_check(key))


@FUZZ
@given(step=TEXT, email=TEXT, status=TEXT)
def test_execution_filters(db: Database, step: str, email: str, status: str) -> None:
    answered_or_refused(lambda: executions.list_executions(db, step=step, email=email))
    answered_or_refused(lambda: executions.list_executions(db, status=status))


@FUZZ
@given(since=TEXT, until=TEXT)
def test_time_windows(since: str, until: str) -> None:
    answered_or_refused(lambda: parse_since(since, now=NOW))
    answered_or_refused(lambda: parse_window(since, until, now=NOW))


@FUZZ
@given(credits_text=TEXT, amount=TEXT, reference=TEXT, notes=TEXT, reason=TEXT)
def test_grant_input_never_writes_when_refused(
    db: Database, credits_text: str, amount: str, reference: str, notes: str, reason: str
) -> None:
    before = scalar(db, WRITES)
    try:
        grant = credits.parse_grant(
            credits_text, amount, reference, notes, reason, max_credits=credits.MAX_CREDITS
        )
    except AdminError:
        assert scalar(db, WRITES) == before
        return
    # Accepted input must then write cleanly: one receipt, or a refusal that writes nothing.
    user_id = str(scalar(db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))
    try:
        credits.grant_credits(db, user_id, grant, "fuzzer", seen_duplicates=None)
    except DatabaseError as error:
        pytest.fail(f"the database saw accepted input and refused it: {error}")
    except AdminError:
        assert scalar(db, WRITES) == before
        return
    assert scalar(db, WRITES) == before + 1


@FUZZ
@given(reason=TEXT, receipt=TEXT)
def test_refund_reasons_and_ids(db: Database, reason: str, receipt: str) -> None:
    before = scalar(db, "SELECT COUNT(*) FROM payment_receipts WHERE status = 'refunded'")
    answered_or_refused(lambda: credits.refund_receipt(db, receipt, reason, "fuzzer"))
    after = scalar(db, "SELECT COUNT(*) FROM payment_receipts WHERE status = 'refunded'")
    assert after == before  # no real receipt id is ever generated, so nothing is refunded


CLI_CASES: list[Callable[[str, str], list[str]]] = [
    lambda url, x: ["users", "find", x, "--url", url],
    lambda url, x: ["users", "show", x, "--url", url],
    lambda url, x: ["executions", "--since", x, "--url", url],
    lambda url, x: ["executions", "--step", x, "--user", x, "--url", url, "--format", "json"],
    lambda url, x: ["executions", "show", x, "--url", url],
    lambda url, x: ["payments", "list", "--search", x, "--url", url, "--format", "csv"],
    lambda url, x: ["payments", "summary", "--since", x, "--url", url],
    lambda url, x: ["receipts", "verify", x, "--url", url],
    lambda url, x: ["grant", "someone@example.com", x, "5.00", "--ref", x, "--url", url],
    lambda url, x: ["grant", "someone@example.com", "5", x, "--ref", "R", "--url", url],
    lambda url, x: ["orphans", "show", x, "--url", url],
]


@settings(
    max_examples=EXAMPLES // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=TEXT.filter(lambda v: not v.startswith("-")), case=st.sampled_from(CLI_CASES))
def test_the_cli(
    db: Database, url: str, capsys, value: str, case: Callable[[str, str], list[str]]
) -> None:
    """Every command given fuzz: exit 0, 1 or 2, one line on stderr, no traceback, no write."""
    before = scalar(db, WRITES)
    code = main(case(url, value))
    _, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code:
        assert err.startswith("adminui: ") and err.count("\n") == 1
    assert scalar(db, WRITES) == before
