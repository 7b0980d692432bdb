"""Terminal control characters stored in the database (issue 13, item 7) reach the operator's
screen escaped, on every CLI output path: tables, CSV, the step logs of the writes, and the
`adminui: ...` lines on stderr. JSON is escaped by json.dumps. Counted on stdout and stderr of
each command, in-process and in a real process."""

from __future__ import annotations

import re
import sys
import uuid

from sqlalchemy import text

from adminui.db import Database
from adminui.output import EscapedStream, escaped_output, raw_output
from tests.conftest import raw_engine, run, run_process, scalar
from tests.orphan_rows import change, plant

# What a terminal acts on instead of showing: C0 but newline and tab, DEL, C1 (CR included);
# and the invisible characters that reorder or hide text (a right-to-left override, a zero-width
# space), which make a preview read other than it means.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\u200b]")
NAME = "Ann\x1b[31m Red\x07\r\x9b2J \u202edeR\u200b"
ERROR = "boom\x1b]0;owned\x07\rfirst line\nsecond\x1b[2J line\x85"
STEP = "render\x1b[1m"
NOTES = "note\x1b[5m\rblink\x90"


def plant_control_text(db: Database) -> tuple[str, str, str]:
    """Control characters in a user's name, one of their executions (error_message and
    error_step), the reference and notes of their pending receipt, and an orphan receipt's;
    (email, execution id, receipt id)."""
    user, receipt, execution = (
        str(value)
        for value in scalar_row(
            db,
            "SELECT r.user_id, r.id, e.id FROM payment_receipts r "
            "JOIN executions e ON e.user_id = r.user_id WHERE r.status = 'pending' "
            "ORDER BY r.id, e.id LIMIT 1",
        )
    )
    reference = f"BMC-\x1b[31mCTRL\x9d-{uuid.uuid4().hex[:8]}"
    change(db, "UPDATE users SET name = :n WHERE id = :u", n=NAME, u=user)
    change(
        db,
        "UPDATE executions SET status = 'failed', error_message = :m, error_step = :s "
        "WHERE id = :e",
        m=ERROR,
        s=STEP,
        e=execution,
    )
    update_receipt = "UPDATE payment_receipts SET bmc_reference = :r, notes = :n WHERE id = :i"
    change(db, update_receipt, r=reference, n=NOTES, i=receipt)
    (orphan,) = plant(db, "payment_receipts.user_id", 1)
    change(db, update_receipt, r=f"{reference}-orphan", n=NOTES, i=orphan)
    email = str(scalar(db, "SELECT email FROM users WHERE id = :u", u=user))
    return email, execution, receipt


def scalar_row(db: Database, sql: str) -> tuple[object, ...]:
    """One row read straight from the database."""
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(sql)).one())
    finally:
        engine.dispose()


def commands(email: str, execution: str, receipt: str) -> list[tuple[int, list[str]]]:
    """Every command that shows the planted text, in each format that could carry it raw, then
    the writes (their step logs) and an error line quoting what was typed; with the exit code
    each must end with."""
    shows = [
        ["users", "find", email],
        ["users", "show", email],
        ["executions", "--user", email],
        ["executions", "--step", STEP],
        ["executions", "show", execution],
        ["executions", "summary"],
        ["payments", "list", "--search", email],
        ["receipts", "pending"],
        ["orphans", "show", "payment_receipts.user_id"],
    ]
    formats = (["--format", "table"], ["--format", "csv"], ["--format", "json"])
    return [
        *((0, [*argv, *fmt]) for argv in shows for fmt in formats),
        (0, ["grant", email, "3", "3.00", "--ref", f"BMC-NEW-{uuid.uuid4().hex[:8]}", "--yes"]),
        (0, ["receipts", "verify", receipt, "--yes"]),
        (0, ["receipts", "refund", receipt, "--reason", "r", "--accept-shortfall", "--yes"]),
        (1, ["users", "show", "gh\x1b[31most\r@example.com"]),
        (1, ["executions", "--status", "\x1b[2J\x9b"]),
    ]


def test_no_raw_control_character_reaches_the_terminal(db: Database, url: str, capsys) -> None:
    email, execution, receipt = plant_control_text(db)
    raw, wrong, shown = 0, [], []
    for expected, argv in commands(email, execution, receipt):
        code, out, err = run(capsys, *argv, "--url", url)
        if code != expected:
            wrong.append((argv, code, err))
        raw += len(RAW_CONTROL.findall(out + err))
        shown.append(out + err)
    assert not wrong  # each command did show the planted text (or refuse, as intended)
    assert raw == 0
    output = "\n".join(shown)
    # ... shown escaped, not dropped: in a table cell, in the step log, in error_message whole.
    assert "Ann\\x1b[31m Red\\x07\\r\\x9b2J" in output
    assert "boom\\x1b]0;owned\\x07\\rfirst line\nsecond\\x1b[2J line\\x85" in output
    assert "gh\\x1b[31most\\r@example.com" in output


def test_a_real_process_writes_no_raw_control_byte(sqlite_db: Database) -> None:
    """The bytes a terminal would get from `executions show` and `grant`'s step log."""
    email, execution, _ = plant_control_text(sqlite_db)
    url = f"sqlite:///{sqlite_db.profile.url.database}"
    for argv in (
        ["executions", "show", execution],
        ["grant", email, "3", "3.00", "--ref", "BMC-PROCESS", "--yes"],
    ):
        done = run_process(*argv, "--url", url)
        assert done.returncode == 0, done.stderr
        text = (done.stdout + done.stderr).decode("utf-8")
        assert not RAW_CONTROL.findall(text) and "\\x1b" in text


def test_the_app_gets_the_real_terminal_back() -> None:
    """run_app draws through raw_output: inside the CLI's escaping, the streams it sees are the
    real ones again (the TUI's escape sequences, and Rich's coloured crash report on stderr,
    must not be escaped), and the escaping comes back afterwards."""
    real = sys.stdout, sys.stderr
    with escaped_output():
        assert all(isinstance(stream, EscapedStream) for stream in (sys.stdout, sys.stderr))
        escaping = sys.stdout, sys.stderr
        with raw_output():
            assert (sys.stdout, sys.stderr) == real
        assert (sys.stdout, sys.stderr) == escaping
    assert (sys.stdout, sys.stderr) == real
