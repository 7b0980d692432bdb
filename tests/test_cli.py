"""The scriptable CLI: exact output per format, exit codes, one-sentence errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import keyring
import pytest

from adminui.db import Database
from adminui.ops import users
from adminui.packs import load_pack
from tests.conftest import PG_PASSWORD, PgServer, needle, run, scalar

USER_COLUMNS = load_pack().lookup.columns  # Idea Expansion's


def test_find_as_json_is_the_ops_result(db: Database, url: str, capsys) -> None:
    code, out, _ = run(capsys, "users", "find", needle(db), "--url", url, "--format", "json")
    assert code == 0
    expected = users.find_users(db, needle(db))
    got = json.loads(out)
    assert [row["email"] for row in got] == [row.email for row in expected.rows]
    assert set(got[0]) == set(USER_COLUMNS)
    assert got[0]["created_at"].endswith("+00:00")


def test_find_as_csv_has_a_header_and_every_row(db: Database, url: str, capsys) -> None:
    code, out, _ = run(capsys, "--url", url, "users", "find", "example", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == list(USER_COLUMNS)
    assert len(rows) - 1 == len(users.find_users(db, "example").rows)


def test_find_as_a_table_names_the_columns_and_counts(db: Database, url: str, capsys) -> None:
    code, out, err = run(capsys, "users", "find", needle(db), "--url", url)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["email", "name"]
    found = users.find_users(db, needle(db))
    assert len(lines) == 2 + len(found.rows)
    assert err.strip() == found.describe()


def test_show_as_json_uses_the_seed_column_names(db: Database, url: str, capsys) -> None:
    email = users.recent_users(db, 1).rows[0].email
    code, out, _ = run(capsys, "users", "show", email.upper(), "--url", url, "--format", "json")
    shown = json.loads(out)
    assert code == 0 and isinstance(shown, dict)
    assert shown["email"] == email
    for key in (
        "free_expansions_remaining",
        "paid_credits_remaining",
        "total",
        "total_executions",
        "successful",
        "failed",
        "total_tokens",
    ):
        assert key in shown
    assert isinstance(shown["receipts"], list) and isinstance(shown["credentials"], list)
    assert "encrypted_value" not in out


def test_show_as_a_table_has_every_section(db: Database, url: str, capsys) -> None:
    user_id = users.find_users(db, "example", limit=1).rows[0].id
    code, out, _ = run(capsys, "users", "show", user_id, "--url", url)
    assert code == 0
    assert out.splitlines()[0].split() == ["id", user_id]
    for section in ("Latest executions:", "Receipts:", "Credentials:"):
        assert section in out


def test_show_as_csv_is_one_row_of_the_profile_fields(db: Database, url: str, capsys) -> None:
    user = users.recent_users(db, 1).rows[0]
    code, out, _ = run(capsys, "users", "show", user.id, "--url", url, "--format", "csv")
    header, row = list(csv.reader(io.StringIO(out)))
    assert code == 0 and header[:3] == ["id", "email", "name"]
    assert dict(zip(header, row, strict=True))["email"] == user.email
    assert "receipts" not in header  # lists have no place in one CSV row; use JSON


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--url", "postgresql://a@h:notaport/db"], "--url is not a database URL"),
        (["--url", "mysql://a@h/db"], "names a mysql database"),
    ],
)
def test_bad_urls_exit_2_with_a_sentence(capsys, argv: list[str], expected: str) -> None:
    code, _, err = run(capsys, "users", "find", "abc", *argv)
    assert code == 2 and expected in err and "Traceback" not in err


def test_money_in_json_is_an_exact_string(db: Database, url: str, capsys) -> None:
    user_id = str(scalar(db, "SELECT user_id FROM payment_receipts LIMIT 1"))
    _, out, _ = run(capsys, "users", "show", user_id, "--url", url, "--format", "json")
    amounts = [r["amount_usd"] for r in json.loads(out)["receipts"]]
    assert amounts and all(isinstance(a, str) and a.count(".") == 1 for a in amounts)
    assert all(len(a.split(".")[1]) == 2 for a in amounts)


def test_an_unknown_user_exits_1_with_a_sentence(url: str, capsys) -> None:
    code, out, err = run(capsys, "users", "show", "ghost@example.com", "--url", url)
    assert (code, out) == (1, "")
    assert err == "adminui: No user has the email 'ghost@example.com'.\n"


def test_a_too_short_search_exits_1(url: str, capsys) -> None:
    code, _, err = run(capsys, "users", "find", "a", "--url", url)
    assert code == 1 and err == "adminui: search: type at least 3 characters\n"


def test_an_unreachable_database_exits_2_without_a_traceback(capsys) -> None:
    code, out, err = run(
        capsys, "users", "find", "abc", "--url", "postgresql://admin:s3cret@127.0.0.1:1/app"
    )
    assert (code, out) == (2, "")
    assert err.startswith("adminui: Nothing accepted a connection at 127.0.0.1:1/app")
    assert "Traceback" not in err and "s3cret" not in err and err.count("\n") == 1


def test_a_missing_config_exits_2(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "--config", str(tmp_path / "none.toml"), "users", "find", "abc")
    assert code == 2 and "No config file at" in err


def test_profile_chosen_from_a_config_file(
    pg_server: PgServer, pg_template: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.stage]\nurl = "{pg_server.url(pg_template, password=False)}"\n')
    monkeypatch.setenv("ADMINUI_PASSWORD", PG_PASSWORD)
    code, out, _ = run(
        capsys,
        "users",
        "find",
        "example",
        "--config",
        str(config),
        "--profile",
        "stage",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)
    # The command's connections ended with it: the template can be copied again at once
    # (PostgreSQL refuses while any session is in it).
    pg_server.psql(f"CREATE DATABASE after_cli TEMPLATE {pg_template}")
    pg_server.psql("DROP DATABASE after_cli")


def test_demo_builds_then_reuses_its_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "demo.sqlite"
    code, _, err = run(capsys, "demo", "--path", str(path), "--users", "40", "--no-open")
    assert code == 0 and err.startswith(f"Built {path}: 40 users")
    code, _, err = run(capsys, "demo", "--path", str(path), "--no-open")
    assert code == 0 and err.startswith(f"Using the demo at {path}")
    code, out, _ = run(
        capsys, "--url", f"sqlite:///{path}", "users", "find", "example.org", "--format", "json"
    )
    assert code == 0 and all("example.org" in row["email"] for row in json.loads(out))


def test_demo_refuses_a_silly_size(tmp_path: Path, capsys) -> None:
    code, _, err = run(
        capsys, "demo", "--path", str(tmp_path / "d.sqlite"), "--users", "0", "--no-open"
    )
    assert code == 1 and "--users: must be between 1 and" in err
    assert not (tmp_path / "d.sqlite").exists()


def test_password_set_and_delete_through_the_keyring(capsys, monkeypatch, tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[profiles.prod]\nurl = "postgresql://admin@db.example.com/app"\n')
    monkeypatch.setenv("ADMINUI_CONFIG", str(config))
    code, _, err = run(capsys, "password", "set", "prdo")
    assert code == 2 and "Profile 'prdo' is not in" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    code, out, err = run(capsys, "password", "set", "prod")
    assert code == 0 and out == "" and "correct horse" not in err
    assert keyring.get_password("adminui", "prod") == "correct horse"
    code, _, _ = run(capsys, "password", "delete", "prod")
    assert code == 0 and keyring.get_password("adminui", "prod") is None
    code, _, err = run(capsys, "password", "delete", "prod")
    assert code == 1 and "No password is stored for profile 'prod'" in err


def test_password_set_refuses_before_asking_when_no_keyring_can_store_it(
    capsys, monkeypatch, tmp_path
) -> None:
    """It asked for the password first, then found there was no keyring to keep it."""
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    config = tmp_path / "c.toml"
    config.write_text('[profiles.prod]\nurl = "postgresql://u@h/db"\n')
    keyring.set_keyring(FailKeyring())
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.readline", lambda: asked.append("read") or "secret\n")
    code, _, err = run(capsys, "password", "set", "prod", "--config", str(config))
    assert code == 2 and "No usable keyring" in err and "nothing was asked" in err
    assert asked == []
