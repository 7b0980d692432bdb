"""Orphan checks on both dialects: planted orphans are found with exact counts, cleaning touches
exactly them, a row that gains its parent rolls the clean back, backups restore byte for byte,
and the expected foreign keys can be added back afterwards."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from adminui import audit
from adminui.db import Database
from adminui.errors import AdminError, InputError, ReadOnlyError
from adminui.ops import backups, health, orphans
from adminui.schema import expected_foreign_keys
from tests.conftest import raw_engine, scalar, with_registry
from tests.orphan_rows import change, drop_foreign_keys, plant, table_rows

TABLES = (
    "users",
    "ideas",
    "credentials",
    "executions",
    "outputs",
    "blog_posts",
    "usage_tracking",
    "payment_receipts",
)
# How many orphans each check gets: distinct numbers, so a count landing on the wrong check shows.
PLANTED = {check.name: n for n, check in enumerate(orphans.checks(), start=1)}


def _users_without_usage(db: Database) -> int:
    """Counted independently of the app: a LEFT JOIN instead of NOT EXISTS."""
    sql = (
        "SELECT COUNT(*) FROM users u LEFT JOIN usage_tracking t ON t.user_id = u.id "
        "WHERE t.id IS NULL"
    )
    return int(scalar(db, sql))  # type: ignore[arg-type]


@pytest.fixture
def planted(db: Database) -> dict[str, list[str]]:
    return {name: plant(db, name, n) for name, n in PLANTED.items()}


def _snapshot(db: Database) -> dict[str, list[tuple]]:
    return {table: table_rows(db, table) for table in TABLES}


def _clean(db: Database, name: str, tmp_path: Path) -> orphans.CleanResult:
    check = orphans.get_check(name)
    saved = backups.backup(db, check, tmp_path / f"{name}.jsonl")
    return orphans.clean(db, saved, "tester")


def test_the_scan_finds_every_planted_orphan_exactly(db: Database, planted: dict) -> None:
    counts = {c.check.name: c.count for c in orphans.scan(db)}
    expected = dict(PLANTED, **{"users.usage_tracking": _users_without_usage(db)})
    assert counts == expected
    assert expected["users.usage_tracking"] >= PLANTED["users.usage_tracking"]


def test_cleaning_every_check_removes_exactly_the_orphans(
    db: Database, planted: dict, tmp_path: Path
) -> None:
    before = _snapshot(db)
    missing_usage = _users_without_usage(db)
    for check in orphans.checks():
        result = _clean(db, check.name, tmp_path)
        expected = missing_usage if check.action == "create" else PLANTED[check.name]
        assert (result.acted_on, result.remaining) == (expected, 0), check.name
    after = _snapshot(db)

    deleted = {c.table: set(planted[c.name]) for c in orphans.checks() if c.action == "delete"}
    deleted["outputs"] = set(planted["outputs.execution_id"]) | set(planted["outputs.user_id"])
    deleted["blog_posts"] = set(planted["blog_posts.output_id"]) | set(
        planted["blog_posts.user_id"]
    )
    for table in ("ideas", "credentials", "blog_posts", "payment_receipts", "users"):
        gone = deleted.get(table, set())
        assert after[table] == [r for r in before[table] if str(r[0]) not in gone], table
    # The SET NULL relations: only the planted rows changed, and only in that column.
    for name, table, column in (
        ("executions.selected_idea_id", "executions", "selected_idea_id"),
        ("outputs.idea_id", "outputs", "idea_id"),
    ):
        nulled = set(planted[name])
        kept = [r for r in before[table] if str(r[0]) not in deleted.get(table, set())]
        assert len(after[table]) == len(kept)
        engine = raw_engine(db)
        with engine.connect() as conn:
            values = dict(conn.execute(text(f"SELECT id, {column} FROM {table}")).all())
        engine.dispose()
        assert all(values[uuid_or_str(db, i)] is None for i in nulled)
        assert [str(r[0]) for r in after[table]] == [str(r[0]) for r in kept]
    # Every user now has a usage_tracking row, with the schema's defaults.
    assert _users_without_usage(db) == 0
    assert len(after["usage_tracking"]) == (
        len(before["usage_tracking"]) - PLANTED["usage_tracking.user_id"] + missing_usage
    )
    assert all(c.count == 0 for c in orphans.scan(db))


def uuid_or_str(db: Database, value: str) -> object:
    return uuid.UUID(value) if db.dialect == "postgresql" else value


def test_the_foreign_keys_go_back_once_clean(db: Database, planted: dict, tmp_path: Path) -> None:
    states = {k.check: k.state for k in health.foreign_keys(db)}
    if db.dialect == "postgresql":
        assert set(states.values()) == {"missing"}
    for check in orphans.checks():
        _clean(db, check.name, tmp_path)
    if db.dialect == "sqlite":
        engine = raw_engine(db)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        engine.dispose()
        return
    for key in expected_foreign_keys():
        change(db, key.ddl)  # the very text the health view shows
    assert {k.state for k in health.foreign_keys(db)} == {"present"}


def test_health_names_missing_and_unvalidated_keys(pg_db: Database) -> None:
    keys = {k.check: k for k in health.foreign_keys(pg_db)}
    assert {k.state for k in keys.values()} == {"present"}
    change(pg_db, "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey")
    change(pg_db, "ALTER TABLE outputs DROP CONSTRAINT outputs_idea_id_fkey")
    change(
        pg_db,
        "ALTER TABLE outputs ADD CONSTRAINT outputs_idea_id_fkey FOREIGN KEY (idea_id) "
        "REFERENCES ideas(id) ON DELETE SET NULL NOT VALID",
    )
    keys = {k.check: k for k in health.foreign_keys(pg_db)}
    assert keys["ideas.user_id"].state == "missing"
    assert keys["ideas.user_id"].fix.startswith("ALTER TABLE ideas ADD CONSTRAINT")
    assert keys["outputs.idea_id"].state == "not valid"
    assert keys["outputs.idea_id"].fix == (
        "ALTER TABLE outputs VALIDATE CONSTRAINT outputs_idea_id_fkey;"
    )
    assert sum(k.state == "present" for k in keys.values()) == len(keys) - 2


def test_a_validated_key_is_trusted_and_a_full_scan_counts_past_it(pg_db: Database) -> None:
    """With every key in place only users.usage_tracking (which no key covers) is counted. A row
    written with triggers off (replica mode, as a data-only restore) gets past a key: the quick
    scan can't see it, the full scan counts it."""
    ghost = str(uuid.uuid4())
    engine = raw_engine(pg_db)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("INSERT INTO ideas (user_id, title) VALUES (:u, 'x')"), {"u": ghost})
    engine.dispose()
    quick = {c.check.name: c for c in orphans.scan(pg_db)}
    assert quick["ideas.user_id"] == orphans.CheckCount(
        orphans.get_check("ideas.user_id"), None, "ideas_user_id_fkey"
    )
    assert [name for name, c in quick.items() if c.enforced_by is None] == ["users.usage_tracking"]
    full = {c.check.name: c for c in orphans.scan(pg_db, full=True)}
    assert full["ideas.user_id"].count == 1
    assert all(c.enforced_by is None for c in full.values())


def test_a_lost_unvalidated_or_disabled_key_is_counted(pg_db: Database) -> None:
    ids = plant(pg_db, "ideas.user_id", 2)  # drops every key
    for key in expected_foreign_keys():
        if key.table == "ideas":
            continue  # ideas.user_id stays lost
        not_valid = " NOT VALID" if key.table == "outputs" else ""
        change(pg_db, key.ddl.rstrip(";") + not_valid)
    change(pg_db, "ALTER TABLE usage_tracking DISABLE TRIGGER ALL")
    keys = {k.check: k for k in health.foreign_keys(pg_db)}
    assert keys["ideas.user_id"].state == "missing"
    assert {keys[n].state for n in ("outputs.user_id", "outputs.idea_id")} == {"not valid"}
    assert keys["usage_tracking.user_id"].state == "disabled"
    # Adding the key again checks every row, which enabling its triggers would not.
    assert keys["usage_tracking.user_id"].fix.splitlines()[1:] == [
        "ALTER TABLE usage_tracking DROP CONSTRAINT usage_tracking_user_id_fkey;",
        next(k.ddl for k in expected_foreign_keys() if k.table == "usage_tracking"),
    ]
    found = {c.check.name: c for c in orphans.scan(pg_db)}
    counted = {name for name, c in found.items() if c.enforced_by is None}
    expected = {"ideas.user_id", "usage_tracking.user_id", "users.usage_tracking"}
    assert counted == expected | {n for n in keys if n.startswith("outputs.")}
    assert found["ideas.user_id"].count == len(ids)


@pytest.mark.parametrize(
    ("statement", "untrusted"),
    [
        # The parent's side: deleting a user would no longer cascade.
        ("ALTER TABLE users DISABLE TRIGGER ALL", lambda k: k.parent == "users"),
        # Triggers that fire only in replica mode check no ordinary write.
        (
            "DO $$ DECLARE t text; BEGIN FOR t IN SELECT tgname FROM pg_trigger "
            "WHERE tgrelid = CAST('ideas' AS regclass) AND tgisinternal LOOP "
            "EXECUTE format('ALTER TABLE ideas ENABLE REPLICA TRIGGER %I', t); END LOOP; END $$",
            lambda k: "ideas" in (k.table, k.parent),
        ),
        # Rows of a table inheriting from ideas are read as ideas but not checked by its key.
        (
            "CREATE TABLE ideas_archive () INHERITS (ideas)",
            lambda k: "ideas" in (k.table, k.parent),
        ),
    ],
)
def test_keys_that_do_not_check_every_row_are_not_trusted(
    pg_db: Database, statement: str, untrusted
) -> None:
    change(pg_db, statement)
    expected = {f"{k.table}.{k.column}" for k in expected_foreign_keys() if untrusted(k)}
    counted = {c.check.name for c in orphans.scan(pg_db) if c.enforced_by is None}
    assert counted == expected | {"users.usage_tracking"}


def test_a_key_to_a_table_of_another_schema_is_not_trusted(pg_db: Database) -> None:
    """ideas.user_id pointing at auth.users (as on Supabase) keeps nothing out of public.users."""
    ghost = str(uuid.uuid4())
    change(pg_db, "CREATE SCHEMA auth")
    change(pg_db, "CREATE TABLE auth.users (id uuid PRIMARY KEY)")
    change(pg_db, "INSERT INTO auth.users SELECT id FROM users")
    change(pg_db, "INSERT INTO auth.users VALUES (:id)", id=ghost)
    change(pg_db, "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey")
    change(
        pg_db,
        "ALTER TABLE ideas ADD CONSTRAINT ideas_user_id_fkey FOREIGN KEY (user_id) "
        "REFERENCES auth.users(id)",
    )
    change(pg_db, "INSERT INTO ideas (user_id, title) VALUES (:u, 'x')", u=ghost)
    assert {k.check: k.state for k in health.foreign_keys(pg_db)}["ideas.user_id"] == "missing"
    found = {c.check.name: c for c in orphans.scan(pg_db)}
    assert (found["ideas.user_id"].count, found["ideas.user_id"].enforced_by) == (1, None)


def test_each_check_names_the_parent_its_key_points_at() -> None:
    for key in expected_foreign_keys():
        assert orphans.get_check(f"{key.table}.{key.column}").parent == key.parent


def test_sqlite_keys_are_never_trusted(sqlite_db: Database) -> None:
    """SQLite checks foreign keys only on connections that ask it to: every check is counted."""
    assert {h.state for h in health.foreign_keys(sqlite_db)} == {"present"}
    assert all(c.enforced_by is None for c in orphans.scan(sqlite_db))


def test_index_advice_sees_an_index_under_any_name(pg_db: Database) -> None:
    def present() -> dict[str, bool]:
        return {i.advice.table + i.advice.definition: i.present for i in health.indexes(pg_db)}

    assert not any(present().values())
    change(pg_db, "CREATE INDEX whatever ON executions (started_at DESC, id DESC)")
    found = present()
    assert found["executionsbtree (started_at DESC, id DESC)"]
    assert sum(found.values()) == 1


def test_a_row_that_gains_its_parent_rolls_the_clean_back(db: Database, tmp_path: Path) -> None:
    ids = plant(db, "ideas.user_id", 3)
    check = orphans.get_check("ideas.user_id")
    saved = backups.backup(db, check, tmp_path / "b.jsonl")
    assert sorted(saved.ids) == sorted(ids)
    before = table_rows(db, "ideas")
    ghost = scalar(db, "SELECT user_id FROM ideas WHERE id = :id", id=ids[1])
    change(
        db,
        "INSERT INTO users (id, email) VALUES (:id, 'came.back@example.com')",
        id=str(ghost),
    )
    with pytest.raises(AdminError, match="Only 2 of the 3 previewed ideas rows"):
        orphans.clean(db, saved, "tester")
    assert table_rows(db, "ideas") == before


def test_a_clean_acts_on_the_backed_up_ids_only(db: Database, tmp_path: Path) -> None:
    plant(db, "payment_receipts.user_id", 2)
    check = orphans.get_check("payment_receipts.user_id")
    saved = backups.backup(db, check, tmp_path / "b.jsonl")
    late = plant(db, "payment_receipts.user_id", 1)  # appears after the preview
    result = orphans.clean(db, saved, "tester")
    assert (result.acted_on, result.remaining) == (2, 1)
    assert orphans.preview(db, check).rows[0]["id"] == late[0]


@pytest.mark.parametrize(
    "name",
    [
        "ideas.user_id",
        "executions.user_id",
        "outputs.user_id",
        "outputs.execution_id",
        "blog_posts.output_id",
        "blog_posts.user_id",
        "usage_tracking.user_id",
        "payment_receipts.user_id",
        "executions.selected_idea_id",
        "outputs.idea_id",
    ],
)
def test_a_backup_restores_the_rows_byte_for_byte(db: Database, tmp_path: Path, name: str) -> None:
    plant(db, name, 3)
    check = orphans.get_check(name)
    before = table_rows(db, check.table)
    result = _clean(db, name, tmp_path)
    assert table_rows(db, check.table) != before
    # Putting orphans back means writing rows whose parent is missing: on SQLite that needs
    # the connection's foreign-key enforcement off, as the CLI's restore opens it.
    target = _restoring(db)
    restored = backups.restore(target, backups.read_backup(result.backup), "tester")
    assert (restored.restored, restored.refused) == (3, ())
    assert table_rows(db, check.table) == before


def _restoring(db: Database) -> Database:
    if db.dialect == "postgresql":
        return db
    return Database(db.profile, enforce_foreign_keys=False)


def test_restore_refuses_rows_that_exist_and_a_second_restore(db: Database, tmp_path: Path) -> None:
    ids = plant(db, "ideas.user_id", 2)
    before = table_rows(db, "ideas")
    result = _clean(db, "ideas.user_id", tmp_path)
    back = next(row for row in before if str(row[0]) == ids[0])
    change(  # one of them comes back by other means, with its id
        db,
        "INSERT INTO ideas (id, user_id, title) VALUES (:i, :u, 'Back')",
        i=ids[0],
        u=str(back[1]),
    )
    saved = backups.read_backup(result.backup)
    restored = backups.restore(_restoring(db), saved, "tester")
    assert (restored.restored, restored.refused) == (1, (ids[0],))
    with pytest.raises(InputError, match="was restored already"):
        backups.restore(_restoring(db), saved, "tester")


def test_restore_refuses_what_it_cannot_put_back(db: Database, tmp_path: Path) -> None:
    plant(db, "credentials.user_id")
    result = _clean(db, "credentials.user_id", tmp_path)
    saved = backups.read_backup(result.backup)
    assert all("encrypted_value" not in row for row in saved.rows)
    with pytest.raises(InputError, match="secret values"):
        backups.restore(db, saved, "tester")
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(result.backup.read_text() + "{not json\n")
    with pytest.raises(InputError, match="line 4 is not JSON"):
        backups.read_backup(damaged)


def test_the_backup_file_is_whole_and_private(db: Database, tmp_path: Path) -> None:
    ids = plant(db, "payment_receipts.user_id", 2)
    check = orphans.get_check("payment_receipts.user_id")
    saved = backups.backup(db, check, tmp_path / "b.jsonl")
    lines = [json.loads(x, parse_float=Decimal) for x in saved.path.read_text().splitlines()]
    assert lines[0]["check"] == "payment_receipts.user_id" and lines[0]["rows_counted"] == 2
    rows = [line["row"] for line in lines[1:-1]]
    assert sorted(r["id"] for r in rows) == sorted(ids)
    # PostgreSQL's NUMERIC is written as its exact text; SQLite keeps what its schema stores.
    assert {Decimal(str(r["amount_usd"])) for r in rows} == {Decimal("999999.99")}
    assert lines[-1] == {
        "adminui_backup_end": {"payment_receipts.user_id": 2},
        "sha256": saved.digest,
    }
    assert saved.path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(InputError, match="exists already"):
        backups.backup(db, check, saved.path)


def test_a_delete_that_would_touch_other_rows_is_refused(db: Database, tmp_path: Path) -> None:
    plant(db, "executions.user_id", 1)
    execution = scalar(db, "SELECT id FROM executions WHERE error_step = 'orphaned'")
    user = scalar(db, "SELECT id FROM users LIMIT 1")
    change(
        db,
        "INSERT INTO outputs (id, execution_id, user_id, format, content) "
        "VALUES (:id, :e, :u, 'image', '{}')",
        id=str(uuid.uuid4()),
        e=str(execution),
        u=str(user),
    )
    before = table_rows(db, "executions")
    target = tmp_path / "b.jsonl"
    with pytest.raises(AdminError, match=r"1 outputs row \(outputs.execution_id, deleted"):
        backups.backup(db, orphans.get_check("executions.user_id"), target)
    assert not target.exists()
    assert table_rows(db, "executions") == before


def test_large_sets_go_in_batches_with_progress(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orphans, "BATCH", 4)
    monkeypatch.setattr(orphans, "PAGE", 3)
    plant(db, "usage_tracking.user_id", 10)
    check = orphans.get_check("usage_tracking.user_id")
    seen: list[tuple[int, int]] = []
    saved = backups.backup(
        db, check, tmp_path / "b.jsonl", progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]
    seen.clear()
    result = orphans.clean(db, saved, "tester", progress=lambda d, t: seen.append((d, t)))
    assert seen == [(4, 10), (8, 10), (10, 10)] and result.acted_on == 10


def test_a_cancelled_clean_changes_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orphans, "BATCH", 2)
    plant(db, "ideas.user_id", 5)
    saved = backups.backup(db, orphans.get_check("ideas.user_id"), tmp_path / "b.jsonl")
    before = table_rows(db, "ideas")
    calls = iter([False, False, True])
    with pytest.raises(orphans.CancelledError):
        orphans.clean(db, saved, "tester", cancelled=lambda: next(calls))
    assert table_rows(db, "ideas") == before


def test_a_read_only_profile_scans_but_does_not_clean(db: Database, tmp_path: Path) -> None:
    plant(db, "ideas.user_id", 2)
    reader = with_registry(db, db.registry, read_only=True)
    assert {c.check.name: c.count for c in orphans.scan(reader)}["ideas.user_id"] == 2
    saved = backups.backup(reader, orphans.get_check("ideas.user_id"), tmp_path / "b.jsonl")
    with pytest.raises(ReadOnlyError):
        orphans.clean(reader, saved, "tester")
    assert orphans.count(db, orphans.get_check("ideas.user_id")) == 2


def test_every_clean_is_audited(db: Database, tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(log))
    ids = plant(db, "payment_receipts.user_id", 2)
    result = _clean(db, "payment_receipts.user_id", tmp_path)
    [entry] = audit.writes(log)
    assert entry["operation"] == "orphans.clean payment_receipts.user_id"
    assert entry["outcome"] == "committed"
    assert sorted(entry["ids"]["payment_receipts"]) == sorted(ids)
    assert entry["inputs"]["backup"] == str(result.backup)


def test_unknown_checks_are_named(db: Database) -> None:
    with pytest.raises(InputError, match=r"no check is called 'users\.id'"):
        orphans.get_check("users.id")


def test_planting_needs_the_foreign_key_gone(pg_db: Database) -> None:
    """Guards the fixture: with the constraint in place PostgreSQL refuses an orphan."""
    engine = raw_engine(pg_db)
    with pytest.raises(Exception, match="foreign key"), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO ideas (user_id, title) VALUES (:u, 'x')"), {"u": str(uuid.uuid4())}
        )
    engine.dispose()
    drop_foreign_keys(pg_db)
    assert plant(pg_db, "ideas.user_id")
