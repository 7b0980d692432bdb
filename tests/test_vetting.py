"""The lock on the vetted queries: the repository's lock matches its query files, a changed,
new or missing file is named, the CLI refuses to start on one unless --allow-unvetted (then it
says so, on screen too), and `adminui queries list|vet` work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from adminui import vetting
from adminui.db import Database
from adminui.queries import DEFAULT_PACK, default_query_dir
from adminui.tui.app import AdminApp

ROOT = Path(__file__).resolve().parent.parent


def test_the_lock_matches_the_query_files() -> None:
    """Fails whenever a query file changes without queries/vetted.lock changing with it: run
    `adminui queries vet` after reviewing the change, and commit both."""
    assert vetting.unvetted() == []
    folder = default_query_dir()
    assert set(vetting.recorded()) == {
        p.relative_to(folder).as_posix()
        for p in [*folder.rglob("*.sql"), *folder.rglob("*.toml"), *folder.rglob("catalog.json")]
    }
    assert {"session.sql", "idea_expansion/users.sql", "idea_expansion/pack.toml"} <= set(
        vetting.recorded()
    )


def test_changed_new_and_missing_files_are_named(tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    shutil.copytree(default_query_dir(), queries)
    assert vetting.unvetted(queries) == []
    with (queries / DEFAULT_PACK / "users.sql").open("a") as handle:
        handle.write("\n-- an innocent-looking edit\n")
    (queries / "extra.sql").write_text(
        "-- name: x\n-- y\n-- mode: read\n-- params: none\nSELECT 1;\n"
    )
    (queries / DEFAULT_PACK / "demo.sql").unlink()
    assert vetting.unvetted(queries) == [
        "extra.sql is new",
        "idea_expansion/demo.sql is gone",
        "idea_expansion/users.sql changed",
    ]
    assert vetting.vet(queries) == [
        "extra.sql is new",
        "idea_expansion/demo.sql is gone",
        "idea_expansion/users.sql changed",
    ]
    assert vetting.unvetted(queries) == []
    (queries / vetting.LOCK_NAME).unlink()
    assert vetting.unvetted(queries) == ["vetted.lock is missing"]


def _adminui(source: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI from a copy of the source tree (its own queries/), in a process of its own."""
    code = "import sys; from adminui.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=source
    )


def test_the_cli_refuses_a_hand_edited_query_file(sqlite_db: Database, tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT / "adminui", source / "adminui")
    shutil.copytree(ROOT / "queries", source / "queries")
    users_sql = source / "queries" / DEFAULT_PACK / "users.sql"
    users_sql.write_text(users_sql.read_text().replace("LIMIT :limit;", "LIMIT :limit + 0;", 1))
    url = f"sqlite:///{sqlite_db.profile.url.database}"

    refused = _adminui(source, "users", "find", "example", "--url", url)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "users.sql changed" in refused.stderr and "adminui queries vet" in refused.stderr
    assert refused.stderr.count("\n") == 1

    allowed = _adminui(source, "users", "find", "example", "--url", url, "--allow-unvetted")
    assert allowed.returncode == 0 and " users\n" in allowed.stderr
    assert "running unvetted queries (idea_expansion/users.sql changed)" in allowed.stderr

    listed = _adminui(source, "queries", "list", "--format", "csv")
    assert listed.returncode == 0 and "recent_users,read,limit,users.sql:" in listed.stdout
    vetted = _adminui(source, "queries", "vet")
    assert vetted.returncode == 0 and "users.sql changed" in vetted.stdout
    assert _adminui(source, "users", "find", "example", "--url", url).returncode == 0


def test_the_cli_refuses_an_edited_schema_file(sqlite_db: Database, tmp_path: Path) -> None:
    """The attack: `DROP TABLE ... CASCADE` added to foreign_keys.sql was shown as DDL to copy,
    and a deleted key line silently left the foreign-key report. The keys now derive from the
    pack's manifest, which is under the lock like the index advice."""
    url = f"sqlite:///{sqlite_db.profile.url.database}"
    for name, edit in (
        ("pack.toml", lambda t: t.replace('on_delete = "set null"', 'on_delete = "cascade"', 1)),
        ("pack.toml", lambda t: t.rsplit("[[relations]]", 1)[0] + "\n"),
        (
            "schema/recommended_indexes.sql",
            lambda t: t + "\n-- why: x\nDROP TABLE users CASCADE;\n",
        ),
    ):
        source = tmp_path / f"src-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(ROOT / "adminui", source / "adminui")
        shutil.copytree(ROOT / "queries", source / "queries")
        edited = source / "queries" / DEFAULT_PACK / name
        edited.write_text(edit(edited.read_text()))
        refused = _adminui(source, "orphans", "fks", "--url", url)
        assert refused.returncode == 2 and refused.stdout == ""
        assert f"idea_expansion/{name} changed" in refused.stderr


async def test_the_app_says_it_runs_unvetted_queries(sqlite_db: Database) -> None:
    app = AdminApp(sqlite_db, unvetted=("users.sql changed",))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "UNVETTED QUERIES" in app.sub_title
    assert "UNVETTED" not in AdminApp(sqlite_db).sub_title
