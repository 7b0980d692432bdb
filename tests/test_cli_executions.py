"""`adminui executions`: list, summary, stuck, show; bad input is one sentence and exit 1."""

from __future__ import annotations

import json

import pytest

from adminui.db import Database
from adminui.ops import executions
from adminui.ops.windows import parse_window
from tests.conftest import run, scalar


def test_failed_runs_as_json(db: Database, url: str, capsys) -> None:
    code, out, _ = run(capsys, "executions", "--status", "failed", "--format", "json", "--url", url)
    rows = json.loads(out)
    assert code == 0 and rows and {r["status"] for r in rows} == {"failed"}
    assert [r["id"] for r in rows] == [
        r.id for r in executions.list_executions(db, status="failed", limit=100).rows
    ]


def test_a_window_with_an_upper_bound(db: Database, url: str, capsys) -> None:
    argv = ("--since", "2026-05-01", "--until", "2026-05-08T06:00", "--format", "json")
    code, out, _ = run(capsys, "executions", *argv, "--limit", "10000", "--url", url)
    window = parse_window("2026-05-01", "2026-05-08T06:00")
    expected = executions.list_executions(db, since=window.since, until=window.until, limit=10000)
    assert code == 0 and [r["id"] for r in json.loads(out)] == [r.id for r in expected.rows]
    assert expected.rows
    code, out, _ = run(capsys, "executions", "summary", *argv, "--url", url)
    summary = executions.failure_summary(db, window.since, window.until)
    assert code == 0 and [r["count"] for r in json.loads(out)] == [s.count for s in summary]


def test_summary_columns(url: str, capsys) -> None:
    code, out, _ = run(capsys, "executions", "summary", "--format", "csv", "--url", url)
    assert code == 0 and out.splitlines()[0] == "error_step,count,users,latest,partial"


def test_show_prints_the_whole_error_literally(db: Database, url: str, capsys) -> None:
    execution_id = str(
        scalar(db, "SELECT id FROM executions WHERE error_message LIKE '%[bold]%' LIMIT 1")
    )
    code, out, _ = run(capsys, "executions", "show", execution_id, "--url", url)
    stored = str(scalar(db, "SELECT error_message FROM executions WHERE id = :i", i=execution_id))
    assert code == 0 and stored in out and "[bold]" in out
    assert out.count(stored.splitlines()[0]) == 1  # once, whole: not also in the field table


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--since", "garbage"], "--since: 'garbage' is not a window"),
        (["--since", "2999-01-01"], "--since: 2999-01-01 00:00 UTC is in the future"),
        (["--status", "exploded"], "--status: must be one of running, completed"),
        (["--until", "soon"], "--until: 'soon' is not a window"),
        (["summary", "--since", "2026-05-02", "--until", "2026-05-01"], "--until: must be after"),
    ],
)
def test_bad_input_exits_1(url: str, capsys, argv: list[str], expected: str) -> None:
    code, out, err = run(capsys, "executions", *argv, "--url", url)
    assert (code, out) == (1, "") and expected in err
