"""`adminui payments summary`: the same figures as the ops, money as exact strings."""

from __future__ import annotations

import json

import pytest

from adminui.db import Database
from adminui.ops import payments
from tests.conftest import run


@pytest.mark.parametrize("by", ["status", "month", "user"])
def test_summary_as_json(db: Database, url: str, capsys, by: str) -> None:
    code, out, _ = run(capsys, "payments", "summary", "--by", by, "--format", "json", "--url", url)
    rows = json.loads(out)
    assert code == 0 and rows
    money = {"status": "total_usd", "month": "verified_usd", "user": "total_spent"}[by]
    assert all(isinstance(r[money], str) and len(r[money].split(".")[1]) == 2 for r in rows)
    if by == "user":
        assert [r["email"] for r in rows] == [u.email for u in payments.by_user(db)]
    if by == "status":
        assert {r["status"]: r["total_usd"] for r in rows} == {
            t.status: str(t.total_usd) for t in payments.by_status(db)
        }


def test_summary_columns_are_the_issues(url: str, capsys) -> None:
    code, out, _ = run(
        capsys, "payments", "summary", "--by", "user", "--format", "csv", "--url", url
    )
    assert code == 0
    assert out.splitlines()[0] == "email,payments,total_credits,total_spent,last_payment"


@pytest.mark.parametrize("since", ["yesterday", "2999-01-01"])
def test_a_bad_window_exits_1(url: str, capsys, since: str) -> None:
    code, out, err = run(capsys, "payments", "summary", "--since", since, "--url", url)
    assert (code, out) == (1, "") and err.startswith("adminui: --since:")


def test_list_as_json(db: Database, url: str, capsys) -> None:
    code, out, _ = run(
        capsys, "payments", "list", "--status", "pending", "--format", "json", "--url", url
    )
    rows = json.loads(out)
    assert code == 0 and rows and {r["status"] for r in rows} == {"pending"}
    assert len(rows) == len(payments.list_payments(db, status="pending").rows)
