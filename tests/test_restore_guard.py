"""What `orphans restore` accepts (issue 13.5, 13.8, 13.9): only a whole, unchanged backup that a
committed clean of the same check on the same database wrote, by the digest its audit line
keeps; and what it puts back equals what was deleted, jsonb numbers included."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from adminui import audit, exact_json
from adminui.db import Database
from adminui.errors import InputError
from adminui.ops import backups, orphans
from tests.conftest import kill_once_written, run, scalar, sqlite_profile, start_cli
from tests.orphan_rows import change, plant, table_rows


def cleaned(db: Database, name: str, folder: Path, n: int = 1) -> Path:
    plant(db, name, n)
    check = orphans.get_check(name)
    saved = backups.backup(db, check, folder / f"{name}.jsonl")
    return orphans.clean(db, saved, "tester").backup


def restoring(db: Database) -> Database:
    """SQLite writes orphans back only with the connection's key enforcement off."""
    return db if db.dialect == "postgresql" else Database(db.profile, enforce_foreign_keys=False)


def rewrite(path: Path, edit) -> None:
    """Edit a backup's rows and give it a fresh, self-consistent end line, as a forger would."""
    lines = [exact_json.loads(x) for x in path.read_text().splitlines()]
    header, rows = lines[0], [edit(r) for r in lines[1:-1]]
    body = "".join(exact_json.dumps(x) + "\n" for x in [header, *rows])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["via"]] = counts.get(r["via"], 0) + 1
    digest = hashlib.sha256(body.encode()).hexdigest()
    end = {"adminui_backup_end": counts, "sha256": digest}
    path.write_text(body + exact_json.dumps(end) + "\n")


def money(db: Database) -> tuple[object, object]:
    return (
        scalar(db, "SELECT COALESCE(SUM(amount_usd), 0) FROM payment_receipts"),
        scalar(db, "SELECT COALESCE(SUM(paid_credits_remaining), 0) FROM usage_tracking"),
    )


def test_a_forged_backup_with_a_valid_digest_is_refused(db: Database, tmp_path: Path) -> None:
    """The attack: a hand-edited backup turned a receipt into a verified $1,000 one and a
    usage_tracking row into 1,000,000 paid credits; restore put them in and said '1 rows'."""
    receipts = cleaned(db, "payment_receipts.user_id", tmp_path)
    usage = cleaned(db, "usage_tracking.user_id", tmp_path)
    rewrite(receipts, lambda r: r | {"row": r["row"] | {"amount_usd": Decimal("1000.00")}})
    rewrite(usage, lambda r: r | {"row": r["row"] | {"paid_credits_remaining": 1_000_000}})
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(receipts.read_bytes())
    rewrite(forged, lambda r: r | {"row": r["row"] | {"id": str(uuid.uuid4())}})
    before = money(db)
    for path in (receipts, usage, forged):
        saved = backups.read_backup(path)  # whole and self-consistent: only the audit knows
        with pytest.raises(InputError, match="no clean in the audit log wrote it"):
            backups.restore(restoring(db), saved, "attacker")
    assert money(db) == before


def test_a_backup_cut_short_or_edited_is_refused(db: Database, tmp_path: Path) -> None:
    path = cleaned(db, "ideas.user_id", tmp_path, 3)
    lines = path.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines[:-2]))  # a header saying 3, two rows, no end line
    with pytest.raises(InputError, match="cut short: it ends after 2 rows"):
        backups.read_backup(cut)
    # Killed in the middle of a row's line (CI's SIGKILL once landed there): still cut short.
    mid_row = tmp_path / "mid-row.jsonl"
    mid_row.write_bytes(b"".join(lines[:-2]) + lines[-2][: len(lines[-2]) // 2])
    with pytest.raises(InputError, match="cut short: it ends after 2 rows"):
        backups.read_backup(mid_row)
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"".join(lines).replace(b"Orphan idea", b"Orphan ideA", 1))
    with pytest.raises(InputError, match="does not match its own digest"):
        backups.read_backup(edited)


def test_a_backup_killed_while_written_never_stands_at_its_path(
    db: Database, url: str, tmp_path: Path
) -> None:
    """SIGKILL mid-backup used to leave 1,424 of 60,000 rows under a header saying 60,000, at
    the path the clean named. Now only `<path>.partial` is left, and restore refuses it."""
    plant(db, "ideas.user_id", 20_000)
    target = tmp_path / "killed.jsonl"
    partial = tmp_path / "killed.jsonl.partial"
    child = start_cli(
        "orphans",
        "clean",
        "ideas.user_id",
        "--url",
        url,
        "--backup",
        str(target),
        "--yes",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_once_written(child, partial)
    assert not target.exists()
    with pytest.raises(InputError, match="cut short"):
        backups.read_backup(partial)
    assert orphans.count(db, orphans.get_check("ideas.user_id")) == 20_000  # nothing cleaned


def test_a_backup_of_another_database_is_refused(sqlite_db: Database, tmp_path: Path) -> None:
    path = cleaned(sqlite_db, "ideas.user_id", tmp_path)
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(Path(str(sqlite_db.profile.url.database)).read_bytes())
    other = Database(sqlite_profile(copy), enforce_foreign_keys=False)
    with pytest.raises(InputError, match=f"was cleaned from {sqlite_db.profile.where}"):
        backups.restore(other, backups.read_backup(path), "tester")
    other.dispose()


def test_what_is_put_back_is_audited_with_its_ids_and_money(db: Database, tmp_path: Path) -> None:
    path = cleaned(db, "payment_receipts.user_id", tmp_path, 2)
    result = backups.restore(restoring(db), backups.read_backup(path), "tester")
    assert result.restored == 2
    assert result.money == {
        "payment_receipts.amount_usd": "1999999.98",
        "payment_receipts.credits_purchased": "6",
    }
    restore_line = audit.writes()[-1]
    assert restore_line["operation"] == "orphans.restore payment_receipts.user_id"
    assert sorted(restore_line["ids"]["payment_receipts"]) == sorted(
        str(r[0]) for r in table_rows(db, "payment_receipts") if str(r[0]) in path.read_text()
    )
    assert restore_line["after"]["money"] == result.money
    assert restore_line["before"]["cleaned_by"] == "tester"


def test_jsonb_comes_back_exactly(pg_db: Database, tmp_path: Path) -> None:
    """`19.999999999999999999` came back as 20.0 and `1.10` as 1.1."""
    [output] = plant(pg_db, "outputs.execution_id", 1)
    content = '{"a": 19.999999999999999999, "b": 1.10, "c": [0.0000001, 1e400, -0.0], "d": "é"}'
    change(
        pg_db, "UPDATE outputs SET content = CAST(:c AS jsonb) WHERE id = :i", c=content, i=output
    )
    whole = "SELECT CAST(to_jsonb(o) AS text) FROM outputs o WHERE id = :i"
    before = scalar(pg_db, whole, i=output)
    saved = backups.backup(pg_db, orphans.get_check("outputs.execution_id"), tmp_path / "o.jsonl")
    orphans.clean(pg_db, saved, "tester")
    assert scalar(pg_db, whole, i=output) is None
    backups.restore(pg_db, backups.read_backup(saved.path), "tester")
    assert scalar(pg_db, whole, i=output) == before
    assert "19.999999999999999999" in str(before) and '"b": 1.10' in str(before)


@pytest.mark.parametrize("name", ["/dev/zero", "/dev/null", "directory", "not-utf-8", "huge"])
def test_restore_of_what_is_no_backup_is_one_sentence(
    db: Database, url: str, capsys, tmp_path: Path, name: str
) -> None:
    path = Path(name)
    if name == "directory":
        path = tmp_path
    elif name == "not-utf-8":
        path = tmp_path / "latin1.jsonl"
        path.write_bytes(b'{"adminui_backup": 2, "check": "ideas.user_id"}\n{"via": "\xff"}\n')
    elif name == "huge":
        path = tmp_path / "huge.jsonl"
        with path.open("wb") as handle:
            handle.truncate(backups.MAX_LINE + 10)  # one line of NULs, larger than any row
    code, out, err = run(capsys, "orphans", "restore", str(path), "--url", url, "--yes")
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert json.dumps(err)  # one printable sentence


def test_a_line_added_to_the_audit_log_by_hand_is_not_a_recorded_clean(
    db: Database, tmp_path: Path
) -> None:
    """The review's forgery: a backup plus one unchained audit line naming its digest put back
    1,000,000 credits although `audit verify` said the chain broke at that line."""
    path = cleaned(db, "usage_tracking.user_id", tmp_path)
    rewrite(path, lambda r: r | {"row": r["row"] | {"paid_credits_remaining": 1_000_000}})
    saved = backups.read_backup(path)
    forged = {
        "entry": "intent",
        "write": "forged",
        "operation": "orphans.clean usage_tracking.user_id",
        "host": db.profile.where,
        "inputs": {"backup_sha256": saved.digest},
    }
    with audit.audit_path().open("a") as log:
        log.write(json.dumps(forged) + "\n")
        log.write(json.dumps({"entry": "outcome", "write": "forged", "outcome": "committed"}))
        log.write("\n")
    before = money(db)
    with pytest.raises(InputError, match="chain breaks"):
        backups.restore(restoring(db), saved, "attacker")
    assert money(db) == before


def test_a_backup_is_put_back_once_even_after_a_later_clean(db: Database, tmp_path: Path) -> None:
    """The review's stale replay: clean A (777 credits), restore A, the credits are spent,
    clean B, restore A again: 777 credits back."""
    path = cleaned(db, "usage_tracking.user_id", tmp_path)
    saved = backups.read_backup(path)
    assert backups.restore(restoring(db), saved, "tester").restored == 1
    [(row_id,)] = [(r["id"],) for _, r in saved.rows]
    change(db, "UPDATE usage_tracking SET paid_credits_remaining = 0 WHERE id = :i", i=row_id)
    check = orphans.get_check("usage_tracking.user_id")
    again = backups.backup(db, check, tmp_path / "again.jsonl")
    orphans.clean(db, again, "tester")
    before = money(db)
    with pytest.raises(InputError, match="was restored already"):
        backups.restore(restoring(db), saved, "tester")
    assert money(db) == before


def test_a_relative_sqlite_path_is_the_file_it_names_wherever_adminui_runs(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean recorded as `the SQLite file demo.sqlite` in one directory was accepted for the
    demo.sqlite of another: the identity is the resolved path."""
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "demo.sqlite").write_bytes(Path(str(sqlite_db.profile.url.database)).read_bytes())
    monkeypatch.chdir(first)
    here = Database(sqlite_profile(Path("demo.sqlite")))
    path = cleaned(here, "ideas.user_id", tmp_path)
    here.dispose()
    monkeypatch.chdir(second)
    there = Database(sqlite_profile(Path("demo.sqlite")), enforce_foreign_keys=False)
    with pytest.raises(InputError, match="was cleaned from"):
        backups.restore(there, backups.read_backup(path), "tester")
    there.dispose()
