"""A clean blocked by rows that are not orphans (issue 13.10, seed 003's procedure): a blog post
whose output exists points at an output whose execution is gone. Deleting the orphan output
would delete the post with it (ON DELETE CASCADE), so the clean used to be refused every time,
with no check listing the post, and the dropped key could never be added back. Now the blocking
rows are named, and on request backed up in the same file, acted on in the same transaction and
restored with it."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from adminui import audit
from adminui.db import Database
from adminui.errors import AdminError, DatabaseError
from adminui.ops import backups, orphans
from adminui.schema import expected_foreign_keys
from tests.commit_cutter import commit_cutter
from tests.conftest import PG_PASSWORD, raw_engine, run, scalar
from tests.orphan_rows import change, plant, table_rows


def a_post_on(db: Database, output_id: str) -> str:
    """A blog post (itself no orphan: its user and output exist) on the given output."""
    post = str(uuid.uuid4())
    change(
        db,
        "INSERT INTO blog_posts (id, output_id, user_id, title, slug, markdown_content, "
        "html_content) SELECT :p, o.id, o.user_id, 'Kept', :slug, '# k', '<h1>k</h1>' "
        "FROM outputs o WHERE o.id = :o",
        p=post,
        slug=f"kept-{post}",
        o=output_id,
    )
    return post


@pytest.fixture
def blocked(db: Database) -> tuple[str, str]:
    """(orphan output, the post on it)."""
    [output] = plant(db, "outputs.execution_id", 1)
    return output, a_post_on(db, output)


def test_the_blocking_rows_are_named_and_nothing_is_kept(
    db: Database, blocked: tuple[str, str], tmp_path: Path
) -> None:
    _, post = blocked
    check = orphans.get_check("outputs.execution_id")
    assert orphans.get_check("blog_posts.output_id") not in [
        c.check
        for c in orphans.scan(db, full=True)
        if c.count  # no check lists the post
    ]
    folder = tmp_path / "backups"
    with pytest.raises(orphans.DependentsError) as refused:
        backups.backup(db, check, folder / "b.jsonl")
    assert f"1 blog_posts row (blog_posts.output_id, deleted with them: {post[:8]}…)" in str(
        refused.value
    )
    assert refused.value.found.ids() == {"blog_posts.output_id": (post,)}
    assert not list(folder.iterdir())  # no backup, not even a partial one


def test_included_they_are_backed_up_cleaned_together_and_restored_together(
    db: Database, blocked: tuple[str, str], tmp_path: Path
) -> None:
    output, post = blocked
    check = orphans.get_check("outputs.execution_id")
    before = table_rows(db, "outputs"), table_rows(db, "blog_posts")
    saved = backups.backup(db, check, tmp_path / "b.jsonl", include_dependents=True)
    assert saved.ids == (output,) and saved.dependents == {"blog_posts.output_id": (post,)}
    result = orphans.clean(db, saved, "tester")
    assert (result.acted_on, result.dependents_acted_on, result.remaining) == (1, 1, 0)
    assert scalar(db, "SELECT COUNT(*) FROM blog_posts WHERE id = :p", p=post) == 0
    [write] = audit.writes()
    assert write["ids"] == {"outputs": [output], "blog_posts.output_id": [post]}
    if db.dialect == "postgresql":  # the dropped key can be added back now
        engine = raw_engine(db)
        with engine.begin() as conn:
            for key in expected_foreign_keys():
                if key.table in ("outputs", "blog_posts"):
                    conn.execute(text(key.ddl))
        engine.dispose()
        target = db
    else:
        target = Database(db.profile, enforce_foreign_keys=False)
    if db.dialect == "postgresql":  # the re-added key refuses the orphan output: nothing goes in
        after = table_rows(db, "outputs"), table_rows(db, "blog_posts")
        with pytest.raises(DatabaseError, match="outputs_execution_id_fkey"):
            backups.restore(target, backups.read_backup(saved.path), "tester")
        assert (table_rows(db, "outputs"), table_rows(db, "blog_posts")) == after
        return
    restored = backups.restore(target, backups.read_backup(saved.path), "tester")
    assert (restored.restored, restored.refused) == (2, ())
    assert (table_rows(db, "outputs"), table_rows(db, "blog_posts")) == before


def test_restored_together_on_postgresql_while_the_key_is_still_missing(
    pg_db: Database, tmp_path: Path
) -> None:
    [output] = plant(pg_db, "outputs.execution_id", 1)
    post = a_post_on(pg_db, output)
    before = table_rows(pg_db, "outputs"), table_rows(pg_db, "blog_posts")
    check = orphans.get_check("outputs.execution_id")
    saved = backups.backup(pg_db, check, tmp_path / "b.jsonl", include_dependents=True)
    orphans.clean(pg_db, saved, "tester")
    restored = backups.restore(pg_db, backups.read_backup(saved.path), "tester")
    assert (restored.restored, restored.refused) == (2, ())
    assert (table_rows(pg_db, "outputs"), table_rows(pg_db, "blog_posts")) == before
    assert post in {str(r[0]) for r in table_rows(pg_db, "blog_posts")}


def test_an_execution_clean_follows_the_cascade_two_levels_down(
    db: Database, tmp_path: Path
) -> None:
    """Deleting an orphan execution deletes its outputs, and their blog posts with them."""
    [execution] = plant(db, "executions.user_id", 1)
    output = str(uuid.uuid4())
    change(
        db,
        "INSERT INTO outputs (id, execution_id, user_id, format, content) "
        "SELECT :o, :e, id, 'blog_post', '{\"n\": 1.10}' FROM users ORDER BY id LIMIT 1",
        o=output,
        e=execution,
    )
    post = a_post_on(db, output)
    check = orphans.get_check("executions.user_id")
    saved = backups.backup(db, check, tmp_path / "b.jsonl", include_dependents=True)
    assert saved.dependents == {"outputs.execution_id": (output,), "blog_posts.output_id": (post,)}
    result = orphans.clean(db, saved, "tester")
    assert (result.acted_on, result.dependents_acted_on) == (1, 2)
    gone = "SELECT COUNT(*) FROM {} WHERE id = :i"
    assert [
        scalar(db, gone.format(t), i=i)
        for t, i in (("executions", execution), ("outputs", output), ("blog_posts", post))
    ] == [0, 0, 0]


def test_a_dependent_that_changed_since_the_backup_stops_the_clean(
    db: Database, blocked: tuple[str, str], tmp_path: Path
) -> None:
    _, post = blocked
    check = orphans.get_check("outputs.execution_id")
    saved = backups.backup(db, check, tmp_path / "b.jsonl", include_dependents=True)
    change(db, "DELETE FROM blog_posts WHERE id = :p", p=post)  # gone since the backup
    before = table_rows(db, "outputs"), table_rows(db, "blog_posts")
    with pytest.raises(AdminError, match="changed since the backup") as stopped:
        orphans.clean(db, saved, "tester")
    assert f"The backup {saved.path} stays" in str(stopped.value)
    assert (table_rows(db, "outputs"), table_rows(db, "blog_posts")) == before


def test_the_cli_names_them_and_includes_them_when_asked(
    db: Database, blocked: tuple[str, str], url: str, capsys, tmp_path: Path
) -> None:
    _, post = blocked
    argv = ["orphans", "clean", "outputs.execution_id", "--url", url, "--yes"]
    code, _, err = run(capsys, *argv, "--backup", str(tmp_path / "a.jsonl"))
    assert code == 1 and post[:8] in err and "--include-dependents" in err
    code, out, err = run(
        capsys, *argv, "--backup", str(tmp_path / "b.jsonl"), "--include-dependents"
    )
    assert code == 0, err
    assert "Backup of 2 rows" in out and "including 1 blog_posts row " in out
    assert "Done: 1 row " in out and "and 1 row that pointed at them" in out
    assert scalar(db, "SELECT COUNT(*) FROM blog_posts WHERE id = :p", p=post) == 0


def test_a_live_foreign_key_the_schema_lacks_stops_the_clean(db: Database, tmp_path: Path) -> None:
    """The live database has a table the reference schema doesn't (output_shares, ON DELETE
    CASCADE to outputs): a clean deleted its rows too, and no backup held them."""
    change(
        db,
        "CREATE TABLE output_shares (id TEXT PRIMARY KEY, "
        "output_id UUID REFERENCES outputs(id) ON DELETE CASCADE)"
        if db.dialect == "postgresql"
        else "CREATE TABLE output_shares (id TEXT PRIMARY KEY, "
        "output_id TEXT REFERENCES outputs(id) ON DELETE CASCADE)",
    )
    [output] = plant(db, "outputs.user_id", 1)
    change(db, "INSERT INTO output_shares VALUES ('s1', :o)", o=output)
    check = orphans.get_check("outputs.user_id")
    before = table_rows(db, "outputs"), table_rows(db, "output_shares")
    with pytest.raises(AdminError, match=r"output_shares\.output_id -> outputs"):
        backups.backup(db, check, tmp_path / "b.jsonl")
    assert (table_rows(db, "outputs"), table_rows(db, "output_shares")) == before
    assert not (tmp_path / "b.jsonl").exists()


def test_a_clean_whose_count_afterwards_fails_is_still_reported_done(
    pg_server, pg_db: Database, tmp_path: Path
) -> None:
    """The count after a committed clean is a courtesy: losing it said 'nothing was changed'.
    (Its read loses its connection and the database is then away: the read's one retry fails
    too.)"""
    ids = plant(pg_db, "ideas.user_id", 2)
    check = orphans.get_check("ideas.user_id")
    with commit_cutter(pg_server.port, mark=b"AS orphans") as cutter:
        profile = dataclasses.replace(pg_db.profile, url=pg_db.profile.url.set(port=cutter.port))
        proxied = Database(profile, PG_PASSWORD)
        saved = backups.backup(proxied, check, tmp_path / "b.jsonl")
        cutter.arm("cut", then_refuse=True)  # the next counting transaction loses its end
        result = orphans.clean(proxied, saved, "tester")
        proxied.dispose()
    assert cutter.cut.is_set()
    assert (result.acted_on, result.remaining) == (2, None)
    left = "SELECT COUNT(*) FROM ideas WHERE id = ANY(CAST(:ids AS uuid[]))"
    assert scalar(pg_db, left, ids=ids) == 0
