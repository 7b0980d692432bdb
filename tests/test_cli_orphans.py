"""`adminui orphans` on both dialects: scan JSON, show, clean with its confirmations, restore,
and the foreign-key view."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from adminui.db import Database
from tests.conftest import PG_PASSWORD, run, scalar
from tests.orphan_rows import change, plant, table_rows
from tests.test_cli_credits import _no_password


class Terminal(io.StringIO):
    """What the operator types, at a terminal."""

    def isatty(self) -> bool:
        return True


def _count(db: Database, sql: str) -> int:
    return int(scalar(db, sql))  # type: ignore[arg-type]


def test_scan_prints_every_check_as_json(db: Database, url: str, capsys) -> None:
    plant(db, "ideas.user_id", 2)
    plant(db, "outputs.idea_id", 3)
    code, out, _ = run(capsys, "orphans", "scan", "--url", url, "--format", "json")
    assert code == 0
    found = json.loads(out)
    assert set(found[0]) == {"check", "count", "enforced_by", "action"}
    counts = {r["check"]: (r["count"], r["action"]) for r in found}
    assert counts["ideas.user_id"] == (2, "delete")
    assert counts["outputs.idea_id"] == (3, "nullify")
    assert counts["users.usage_tracking"][1] == "create"
    assert sum(c for c, _ in counts.values()) == 5 + counts["users.usage_tracking"][0]


def test_show_lists_a_checks_rows(db: Database, url: str, capsys) -> None:
    ids = plant(db, "payment_receipts.user_id", 3)
    code, out, err = run(
        capsys, "orphans", "show", "payment_receipts.user_id", "--url", url, "--limit", "2"
    )
    assert code == 0 and "2 of 3 payment_receipts rows" in err
    assert sum(i in out for i in ids) == 2 and "BMC-ORPHAN" in out
    code, _, err = run(capsys, "orphans", "show", "users.nothing", "--url", url)
    assert code == 1 and "no check is called 'users.nothing'" in err


def test_clean_with_yes_backs_up_then_deletes(
    db: Database, url: str, capsys, tmp_path: Path
) -> None:
    ids = plant(db, "ideas.user_id", 2)
    before = _count(db, "SELECT COUNT(*) FROM ideas")
    backup = tmp_path / "ideas.jsonl"
    code, out, _ = run(
        capsys, "orphans", "clean", "ideas.user_id", "--url", url, "--backup", str(backup), "--yes"
    )
    assert code == 0 and f"written to {backup}" in out and "Done: 2 rows" in out
    assert _count(db, "SELECT COUNT(*) FROM ideas") == before - 2
    lines = backup.read_text().splitlines()[1:-1]  # between the header and the end line
    assert sorted(json.loads(x)["row"]["id"] for x in lines) == sorted(ids)


def test_clean_without_a_terminal_or_yes_writes_nothing(
    db: Database, url: str, capsys, tmp_path: Path
) -> None:
    plant(db, "ideas.user_id", 2)
    before = table_rows(db, "ideas")
    backup = tmp_path / "b.jsonl"
    code, _, err = run(
        capsys, "orphans", "clean", "ideas.user_id", "--url", url, "--backup", str(backup)
    )
    assert code == 1 and "pass --yes" in err
    assert table_rows(db, "ideas") == before and not backup.exists()


@pytest.mark.parametrize(("typed", "cleaned"), [("3\n", False), ("2\n", True)])
def test_the_operator_types_the_row_count(
    db: Database, url: str, capsys, tmp_path: Path, monkeypatch, typed: str, cleaned: bool
) -> None:
    plant(db, "ideas.user_id", 2)
    before = table_rows(db, "ideas")
    monkeypatch.setattr("sys.stdin", Terminal(typed))
    code, _, err = run(
        capsys, "orphans", "clean", "ideas.user_id", "--url", url, "--backup", str(tmp_path / "b")
    )
    assert "Type 2 to delete the ideas rows" in err
    assert (code == 0) is cleaned
    assert (len(table_rows(db, "ideas")) == len(before) - 2) is cleaned
    assert (tmp_path / "b").exists()  # the backup is kept either way


def test_receipts_need_a_second_confirmation(
    db: Database, url: str, capsys, tmp_path: Path, monkeypatch
) -> None:
    plant(db, "payment_receipts.user_id", 2)
    receipts = "SELECT COUNT(*) FROM payment_receipts"
    before = _count(db, receipts)
    argv = ["orphans", "clean", "payment_receipts.user_id", "--url", url, "--yes"]
    code, _, err = run(capsys, *argv, "--backup", str(tmp_path / "a"))
    assert code == 1 and "--delete-receipts" in err and "money records" in err
    assert _count(db, receipts) == before and not (tmp_path / "a").exists()

    monkeypatch.setattr("sys.stdin", Terminal("2\ndelete them\n"))
    code, _, err = run(capsys, *argv[:-1], "--backup", str(tmp_path / "b"))
    assert code == 1 and "Type 'delete receipts'" in err
    assert _count(db, receipts) == before

    monkeypatch.setattr("sys.stdin", Terminal("2\ndelete receipts\n"))
    assert run(capsys, *argv[:-1], "--backup", str(tmp_path / "c"))[0] == 0
    assert _count(db, receipts) == before - 2
    assert run(capsys, *argv, "--delete-receipts", "--backup", str(tmp_path / "d"))[0] == 0


def test_restore_puts_the_rows_back(db: Database, url: str, capsys, tmp_path: Path) -> None:
    plant(db, "executions.user_id", 3)
    before = table_rows(db, "executions")
    backup = tmp_path / "b.jsonl"
    clean = ["orphans", "clean", "executions.user_id", "--url", url, "--yes"]
    assert run(capsys, *clean, "--backup", str(backup))[0] == 0
    assert table_rows(db, "executions") != before
    code, out, _ = run(capsys, "orphans", "restore", str(backup), "--url", url, "--yes")
    assert code == 0 and "Restored 3 rows; refused 0" in out
    assert table_rows(db, "executions") == before
    code, out, err = run(capsys, "orphans", "restore", str(backup), "--url", url, "--yes")
    assert code == 1 and out == "" and "was restored already" in err  # a backup goes back once
    code, _, err = run(capsys, "orphans", "restore", str(tmp_path / "none"), "--url", url)
    assert code == 1 and "can't read" in err


def test_a_read_only_profile_scans_but_does_not_clean(
    db: Database, url: str, capsys, tmp_path: Path, monkeypatch
) -> None:
    plant(db, "ideas.user_id", 1)
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.ro]\nurl = "{_no_password(url)}"\nread_only = true\n')
    monkeypatch.setenv("ADMINUI_PASSWORD", "fixture-only-password")
    assert run(capsys, "orphans", "scan", "--config", str(config))[0] == 0
    code, _, err = run(
        capsys, "orphans", "clean", "ideas.user_id", "--config", str(config), "--yes"
    )
    assert code == 1 and "read-only" in err
    assert _count(db, "SELECT COUNT(*) FROM ideas WHERE title = 'Orphan idea'") == 1


def test_fks_names_the_missing_constraint_with_its_ddl(pg_db: Database, capsys) -> None:
    url = pg_db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
    change(pg_db, "ALTER TABLE payment_receipts DROP CONSTRAINT payment_receipts_user_id_fkey")
    code, out, _ = run(capsys, "orphans", "fks", "--url", url, "--format", "json")
    assert code == 0
    rows = {r["check"]: r for r in json.loads(out)}
    assert rows["payment_receipts.user_id"]["state"] == "missing"
    assert "ADD CONSTRAINT payment_receipts_user_id_fkey" in rows["payment_receipts.user_id"]["fix"]
    assert sum(r["state"] == "present" for r in rows.values()) == len(rows) - 1
    code, out, _ = run(capsys, "orphans", "indexes", "--url", url, "--format", "json")
    assert code == 0 and not any(r["present"] for r in json.loads(out))
