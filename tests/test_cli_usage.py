"""The CLI as a newcomer meets it (issue 14.8): a wrong command line is one sentence and exit 1;
an id prefix where a whole id is needed is told as such; options that would be ignored are
refused; a restore that put back less than all is not done; tables fit the terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from adminui.db import Database
from adminui.ops import backups, orphans
from tests.conftest import needle, run, scalar
from tests.orphan_rows import change, plant


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["grant", "a@b.c", "5", "5.00"], "the following arguments are required: --ref"),
        (["users"], "the following arguments are required: ACTION"),
        (["users", "find"], "the following arguments are required: text"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["payments", "summary", "--by", "week"], "argument --by: invalid choice: 'week'"),
    ],
)
def test_a_wrong_command_line_is_one_sentence_and_exit_1(capsys, argv, said: str) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, "") and said in err and err.count("\n") == 1
    assert "usage:" not in err and "--help" in err


def test_an_id_prefix_where_a_whole_id_is_needed_is_told(db: Database, url: str, capsys) -> None:
    prefix = str(scalar(db, "SELECT id FROM users ORDER BY id LIMIT 1"))[:8]
    code, _, err = run(capsys, "users", "show", prefix, "--url", url)
    assert code == 1 and f"No user has the email or id '{prefix}'" in err
    assert "36 characters" in err and "No user has the email '" not in err


def test_since_with_the_monthly_summary_is_refused_not_ignored(url: str, capsys) -> None:
    argv = ["payments", "summary", "--by", "month", "--since", "12m", "--months", "24"]
    code, out, err = run(capsys, *argv, "--url", url)
    assert (code, out) == (1, "") and "--since: does not apply to --by month" in err


def test_a_restore_that_puts_back_less_than_all_exits_1(
    db: Database, url: str, capsys, tmp_path: Path
) -> None:
    ids = plant(db, "ideas.user_id", 3)
    check = orphans.get_check("ideas.user_id")
    saved = backups.backup(db, check, tmp_path / "b.jsonl")
    orphans.clean(db, saved, "tester")
    user = str(scalar(db, "SELECT id FROM users LIMIT 1"))
    change(db, "INSERT INTO ideas (id, user_id, title) VALUES (:i, :u, 'Back')", i=ids[0], u=user)
    code, out, _ = run(capsys, "orphans", "restore", str(saved.path), "--url", url, "--yes")
    assert code == 1 and "Restored 2 rows; refused 1" in out


def _in_a_terminal(columns: int, *argv: str) -> str:
    """The CLI's output in a terminal `columns` wide (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    child = subprocess.Popen(
        [sys.executable, "-m", "adminui", *argv],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    child.wait(60)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_tables_fit_the_terminal_unless_wide(db: Database, url: str) -> None:
    """`users find` printed ~180 columns, raw column names, money left-aligned."""
    argv = ("users", "find", needle(db), "--url", url)
    fitted = _in_a_terminal(80, *argv)
    lines = fitted.rstrip("\n").splitlines()
    assert len(lines) > 2 and max(len(line) for line in lines) <= 80, fitted
    header = lines[0].split()
    assert "free" in header and "free_expansions_remaining" not in header
    wide = _in_a_terminal(80, *argv, "--wide")
    assert max(len(line) for line in wide.splitlines()) > 80
