"""Hostile input to the CLI (issue 13, item 9): an argument that is not UTF-8, a config file
that is not UTF-8 or nests without end, absurd URLs. Each gets one sentence on stderr and exit 1
(2 for config or connection trouble): never a traceback, and nothing is written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from adminui.cli import main
from adminui.db import Database
from tests.conftest import run_process, scalar
from tests.orphan_rows import table_rows

# What Python makes of an argument byte that is not UTF-8: a lone surrogate, '\udcff'.
BAD = os.fsdecode(b"\xff")
TABLES = ("users", "usage_tracking", "payment_receipts", "executions", "ideas")
RECEIPT = "00000000-0000-0000-0000-000000000000"


def every_string_argument(email: str, tmp: Path) -> list[list[str]]:
    """Each command with one of its string arguments undecodable (the rest good)."""
    grant = [email, "3", "3.00", "--ref", "BMC-HOSTILE", "--notes", "n", "--yes"]
    cases = [["users", "find", BAD], ["users", "find", f"ab{BAD}"], ["users", "show", BAD]]
    cases += [["grant", *grant[:i], BAD, *grant[i + 1 :]] for i in (0, 1, 2, 4, 6)]
    cases += [
        ["grant", *grant, "--override-duplicate", BAD],
        ["receipts", "verify", BAD, "--yes"],
        ["receipts", "verify", RECEIPT, "--override-duplicate", BAD, "--yes"],
        ["receipts", "refund", BAD, "--reason", "r", "--yes"],
        ["receipts", "refund", RECEIPT, "--reason", BAD, "--yes"],
        ["payments", "summary", "--since", BAD],
        ["payments", "list", "--search", BAD],
        ["payments", "list", f"--search=x{BAD}"],
        ["payments", "list", "--status", BAD],
        *(["executions", option, BAD] for option in ("--status", "--since", "--until")),
        *(["executions", option, BAD] for option in ("--user", "--step")),
        ["executions", "summary", "--since", BAD],
        ["executions", "show", BAD],
        ["orphans", "show", BAD],
        ["orphans", "clean", BAD, "--yes"],
        ["orphans", "clean", "ideas.user_id", "--backup", str(tmp / BAD), "--yes"],
        ["users", "find", "abc", "--format", BAD],
        ["users", "find", "abc", "--limit", BAD],
    ]
    return cases


def outcome(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    """(exit code or 'traceback', stdout, stderr) of the CLI run in-process."""
    try:
        code: object = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    except Exception as error:  # what the operator would see as a traceback
        code = f"traceback: {type(error).__name__}"
    out, err = capsys.readouterr()
    return code, out, err


def told_in_one_sentence(code: object, out: str, err: str, expected: int) -> bool:
    """Exit `expected`, nothing on stdout, and one short `adminui: ` line on stderr."""
    return (
        code == expected
        and not out
        and err.startswith("adminui: ")
        and err.count("\n") == 1
        and len(err) < 400
    )


def test_an_argument_that_is_not_utf8_is_refused_up_front(
    db: Database, url: str, tmp_path: Path, capsys
) -> None:
    """Every string argument of every command, and each connection option, as non-UTF-8."""
    email = str(scalar(db, "SELECT email FROM users ORDER BY created_at DESC LIMIT 1"))
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.p]\nurl = "{url}"\n')
    runs = [[*argv, "--url", url] for argv in every_string_argument(email, tmp_path)]
    runs += [
        ["users", "find", "abc", "--url", f"{url}{BAD}"],
        ["users", "find", "abc", "--config", str(tmp_path / BAD)],
        ["users", "find", "abc", "--config", str(config), "--profile", BAD],
        ["password", "set", BAD, "--config", str(config)],
        ["demo", "--path", str(tmp_path / "demo" / BAD), "--no-open"],
    ]
    before = [table_rows(db, table) for table in TABLES]
    wrong = []
    for argv in runs:
        code, out, err = outcome(argv, capsys)
        if not (told_in_one_sentence(code, out, err, 1) and "not valid UTF-8" in err):
            wrong.append((argv[:3], code, err[-200:]))
    assert not wrong, f"{len(wrong)} of {len(runs)} not refused in one sentence: {wrong}"
    assert [table_rows(db, table) for table in TABLES] == before
    assert not (tmp_path / "demo").exists()  # the demo was not built


def test_the_refusal_names_the_argument(capsys) -> None:
    code, _, err = outcome(["payments", "list", "--search", BAD], capsys)
    assert code == 1 and err == "adminui: argument 4 (after --search): is not valid UTF-8 " + (
        "text (check the terminal's or the script's encoding); nothing was run\n"
    )
    _, _, err = outcome(["users", "show", BAD], capsys)
    assert err.startswith("adminui: argument 3: ")
    _, _, err = outcome(["payments", "list", f"--search=a{BAD}"], capsys)
    assert err.startswith("adminui: --search: ")


def test_undecodable_bytes_from_a_real_command_line(sqlite_db: Database, tmp_path: Path) -> None:
    """The bytes as a shell passes them, through a real process (Python's own decoding)."""
    url = f"sqlite:///{sqlite_db.profile.url.database}"
    email = str(scalar(sqlite_db, "SELECT email FROM users LIMIT 1"))
    before = [table_rows(sqlite_db, table) for table in TABLES]
    for argv in (
        ["grant", b"\xff" + email.encode(), "3", "3.00", "--ref", "BMC-BYTES", "--yes"],
        ["grant", email, "3", "3.00", "--ref", "BMC-BYTES", "--notes", b"caf\xe9", "--yes"],
        ["payments", "list", "--search", b"ab\xff"],
        ["executions", "--step", b"\xc3"],
    ):
        done = run_process(*argv, "--url", url)
        assert (done.returncode, done.stdout) == (1, b""), done.stderr
        assert done.stderr.count(b"\n") == 1 and b"not valid UTF-8" in done.stderr
    assert [table_rows(sqlite_db, table) for table in TABLES] == before


LONG = "a" * 1_000_000
ABSURD_URLS: list[Callable[[str], str]] = [
    lambda url: f"postgresql://u@{LONG}/db",  # the 1 MB host name
    lambda url: f"postgresql://u@{'a' * 64}.example.com/db",  # a label longer than DNS allows
    lambda url: f"postgresql://u@{'a.' * 150}com/db",  # 303 characters: DNS allows 253
    lambda url: "postgresql://u@a..b/db",
    lambda url: f"postgresql://u@{'é' * 100}/db",
    lambda url: f"postgresql://u@localhost/db?host={LONG}",
    lambda url: f"postgresql://u@localhost/{LONG}",  # a 1 MB database name
    lambda url: f"postgresql://{LONG}@localhost/db",
    lambda url: "postgresql://u@localhost/db?port=abc",
    lambda url: "postgresql://u@localhost:0/db",
    lambda url: "postgresql://u@localhost:99999/db",
    lambda url: f"sqlite:///{LONG}",
    lambda url: f"{url}?timeout=soon" if url.startswith("sqlite") else f"{url}?port=abc",
    lambda url: "postgresql://u@no-such-host-adminui-test/db",  # well-formed: not found
]


@pytest.mark.parametrize("where", ["--url", "config"])
def test_an_absurd_url_is_one_sentence(db: Database, url: str, tmp_path: Path, capsys, where):
    config = tmp_path / "config.toml"
    wrong = []
    for number, make in enumerate(ABSURD_URLS):
        absurd = make(url)
        if where == "--url":
            argv = ["users", "find", "abc", "--url", absurd]
        else:
            config.write_text(f'[profiles.p]\nurl = "{absurd}"\nconnect_timeout = 2\n')
            argv = ["users", "find", "abc", "--config", str(config)]
        code, out, err = outcome(argv, capsys)
        if not told_in_one_sentence(code, out, err, 2):
            wrong.append((number, code, err[-200:]))
    assert not wrong, f"{len(wrong)} of {len(ABSURD_URLS)} absurd URLs: {wrong}"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'operator = "j\xf6rdan"\n', "is not UTF-8 text (byte 14)"),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nests too deeply"),
    ],
    # Named: the content as an id would be 200 KB in PYTEST_CURRENT_TEST, more than one
    # environment variable may hold, and the test's own subprocess could not start.
    ids=["latin-1", "deep nesting"],
)
def test_a_config_file_that_is_not_text_is_one_sentence(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(content)
    done = run_process("users", "find", "abc", "--config", str(config))
    err = done.stderr.decode()
    assert (done.returncode, done.stdout) == (2, b""), err
    assert err.count("\n") == 1 and expected in err and str(config) in err


def test_a_password_variable_that_is_not_utf8_is_one_sentence(capsys, monkeypatch) -> None:
    """$ADMINUI_PASSWORD as Python reads an undecodable byte; never echoed."""
    monkeypatch.setenv("ADMINUI_PASSWORD", f"s3cret{BAD}")
    code, out, err = outcome(
        ["users", "find", "abc", "--url", "postgresql://u@127.0.0.1:1/db"], capsys
    )
    assert told_in_one_sentence(code, out, err, 2) and "ADMINUI_PASSWORD" in err, err
    assert "s3cret" not in err
