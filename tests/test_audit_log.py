"""The audit log's chain (issue 13.3): every line carries the hash of the one before it, appends
from many processes keep one chain, and `adminui audit verify` names the first line that an edit,
a removal or an insertion broke."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from adminui import audit
from adminui.config import Profile, normalize_url
from tests.conftest import PG_PASSWORD, raw_engine, run

PROFILE = Profile(name="test", url=normalize_url("sqlite:///x.sqlite", "test"))


def write_some(n: int) -> list[audit.Intent]:
    made = []
    for i in range(n):
        started = audit.intent(
            PROFILE,
            "jordan",
            "grant",
            inputs={"i": i},
            ids={"receipt_id": f"r{i}"},
            before={"total": i},
            after={"total": i + 1},
            xid=str(1000 + i),
        )
        assert audit.outcome(started, "committed") is None
        made.append(started)
    return made


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv(audit.AUDIT_ENV, str(path))
    return path


def test_each_line_carries_the_hash_of_the_one_before(log: Path) -> None:
    write_some(3)
    lines = log.read_bytes().splitlines()
    assert len(lines) == 6
    assert json.loads(lines[0])["prev"] == audit.GENESIS
    for before, line in itertools.pairwise(lines):
        assert json.loads(line)["prev"] == audit.line_hash(before)
    found = audit.verify(log)
    assert found.broken is None and found.head == audit.line_hash(lines[-1])
    assert log.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        ("edit", 3),  # line 3 changed: line 4 no longer follows it
        ("remove", 3),  # line 3 gone: the old line 4, now 3, follows nothing it knows
        ("insert", 3),  # a forged line 3 carrying a made-up prev
        ("reorder", 3),
        ("first", 1),  # the first line removed
    ],
)
def test_verify_names_the_first_broken_line(log: Path, capsys, tamper: str, broken_at: int) -> None:
    write_some(3)
    lines = log.read_bytes().splitlines()
    if tamper == "edit":
        entry = json.loads(lines[2])
        entry["ids"]["receipt_id"] = "forged"
        lines[2] = json.dumps(entry, sort_keys=True).encode()
        broken_at = 4
    elif tamper == "remove":
        del lines[2]
    elif tamper == "insert":
        lines.insert(2, json.dumps({"prev": "f" * 64, "entry": "intent"}).encode())
    elif tamper == "reorder":
        lines[2], lines[3] = lines[3], lines[2]
    else:
        del lines[0]
    log.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(capsys, "audit", "verify")
    assert code == 1 and out == ""
    assert f"line {broken_at} " in err and err.count("\n") == 1


def test_a_torn_last_line_is_closed_off_and_named(log: Path, capsys) -> None:
    write_some(1)
    with log.open("ab") as handle:
        handle.write(b'{"prev": "abc", "entry": "int')  # a crash mid-append
    write_some(1)
    assert audit.verify(log).broken == (
        "line 3 is not a complete JSON record (a torn or edited line)"
    )


def test_concurrent_appends_keep_one_chain(log: Path) -> None:
    threads = [threading.Thread(target=write_some, args=(10,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = audit.verify(log)
    assert found.broken is None and found.lines == 160 and not found.open_writes


def test_lines_from_before_the_chain_are_counted_not_trusted(log: Path, capsys) -> None:
    log.write_text('{"operation": "grant", "time": "2026-11-01"}\n' * 2)
    write_some(1)
    found = audit.verify(log)
    assert (found.broken, found.unchained, found.lines) == (None, 2, 4)
    code, out, err = run(capsys, "audit", "verify")
    assert code == 0 and "2 chained lines, the chain holds" in out
    assert "2 lines at the start were written before the log was chained" in err


def test_an_intent_without_outcome_is_listed_to_look_up(log: Path, capsys) -> None:
    write_some(1)
    audit.intent(
        PROFILE,
        "jordan",
        "refund",
        inputs={},
        ids={"receipt_id": "r-open"},
        before={},
        after={},
        xid="4242",
    )
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0
    [listed] = [line for line in out.splitlines() if "r-open" in line]
    assert "refund" in listed and "4242" in listed and "no outcome recorded" in listed


def test_a_disk_that_fills_mid_line_rolls_the_write_back_and_leaves_no_half_line(
    pg_db, tmp_path: Path
) -> None:
    """A nearly full disk (RLIMIT_FSIZE, in a process of its own) writes part of the intent
    line: the short write was taken for a whole one, the grant committed, and its only record
    was half a line. Now: the log is cut back and the grant rolled back."""
    log = tmp_path / "audit.jsonl"
    url = pg_db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
    script = f"""
import os, resource, signal
from adminui.connect import open_session
from adminui.ops import credits
session = open_session(config=None, profile=None, url={url!r}, interactive=False)
user = credits.pending_receipts(session.db)[0].user_id
grant = lambda ref: credits.grant_credits(
    session.db, user, credits.parse_grant(1, "1.00", ref, max_credits=10), "jordan")
grant("BMC-FULL-0")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize({str(log)!r}) + 120,) * 2)
try:
    grant("BMC-FULL-1")
except Exception as error:
    print(type(error).__name__, error)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, audit.AUDIT_ENV: str(log)},
        timeout=60,
    )
    assert done.stdout.startswith("AuditError") and "rolled back" in done.stdout, done.stderr
    refs = "SELECT bmc_reference FROM payment_receipts WHERE bmc_reference LIKE 'BMC-FULL-%'"
    assert [r[0] for r in table_rows_of(pg_db, refs)] == ["BMC-FULL-0"]
    found = audit.verify(log)
    assert found.broken is None and found.lines == 2 and not found.open_writes


def table_rows_of(db, sql: str) -> list[tuple]:
    engine = raw_engine(db)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows
