"""The lock on the vetted queries: `queries/vetted.lock` records the SHA-256 of every file the app
reads SQL from, as it was last reviewed: the shared query files and each pack's, with its schema
files, which the demo runs or the health views show as DDL to copy
(`<pack>/schema/recommended_indexes.sql`), and its manifest (`<pack>/pack.toml`), from which the
foreign keys shown as DDL and the orphan checks derive.

A query file that changes without the lock changing with it is caught twice: by a test (so a
query change in a commit always shows as a change of the lock too, a visible review) and at
start-up, where the app refuses to run a hand-edited query file on an operator's machine unless
started with --allow-unvetted (and then says so on screen). `adminui queries vet` rewrites the
lock after review.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from adminui.packs import MANIFEST
from adminui.queries import Registry, default_query_dir
from adminui.schema.reference import CATALOG_FILE

LOCK_NAME = "vetted.lock"
_HEADER = """\
# The SHA-256 of every file adminui reads SQL from (queries/ and its packs' folders), as last
# reviewed (sha256sum's format).
# A query file that differs from its line here is refused at start-up (unless --allow-unvetted);
# after reviewing a change, `adminui queries vet` rewrites this file. Commit it with the change.
"""


def lock_path(directory: Path | None = None) -> Path:
    return (directory or default_query_dir()) / LOCK_NAME


def vetted_files(directory: Path | None = None) -> dict[str, Path]:
    """Every file under the lock, by its path below queries/: the shared `session.sql`, and each
    pack's manifest and SQL, `idea_expansion/pack.toml`, `idea_expansion/users.sql`, ..."""
    directory = directory or default_query_dir()
    paths = [*directory.rglob("*.sql"), *directory.rglob(MANIFEST), *directory.rglob(CATALOG_FILE)]
    return {path.relative_to(directory).as_posix(): path for path in sorted(paths)}


def digests(directory: Path | None = None) -> dict[str, str]:
    """Each vetted file's name and SHA-256, as the files are now."""
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest()
        for name, path in vetted_files(directory).items()
    }


def recorded(directory: Path | None = None) -> dict[str, str]:
    """The lock's name -> SHA-256 (empty when there is no lock)."""
    lock = lock_path(directory)
    if not lock.is_file():
        return {}
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, _, name = line.partition("  ")
            found[name.strip()] = digest.strip()
    return found


def unvetted(directory: Path | None = None) -> list[str]:
    """What doesn't match the lock, one phrase each ('users.sql changed'), sorted."""
    now, locked = digests(directory), recorded(directory)
    if not locked:
        return [f"{LOCK_NAME} is missing"]
    problems = [
        f"{name} {'is new' if name not in locked else 'changed'}"
        for name, digest in now.items()
        if locked.get(name) != digest
    ]
    problems += [f"{name} is gone" for name in locked if name not in now]
    return sorted(problems)


def vet(directory: Path | None = None) -> list[str]:
    """Record the files as they are now; what changed against the old lock."""
    changes = unvetted(directory)
    lines = [f"{digest}  {name}" for name, digest in digests(directory).items()]
    lock_path(directory).write_text(_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return changes


def statements(directory: Path | None = None) -> list[dict[str, str]]:
    """Every vetted statement: name, file and line, mode, params, and what it does."""
    registry = Registry.load(directory)
    rows = []
    for name in registry.names():
        statement = registry.get(name)
        rows.append(
            {
                "name": name,
                "source": statement.source,
                "mode": statement.mode,
                "params": ", ".join(sorted(statement.params)) or "none",
                "doc": statement.doc,
            }
        )
    return rows
