"""The packs' expected catalogs (`queries/<pack>/schema/catalog.json`): each database's expected
schema (its reference DDL, and row-level security where the pack has it) made in a fresh
database of every dialect the pack runs on, and read back with the vetted catalog statements.

`python -m tests.expected_catalogs` writes the files (it starts a PostgreSQL server of its own);
tests/test_schema_drift.py fails when a committed file differs from what this makes, so the file
can't drift from the reference DDL it is read from.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.packs import Pack, packs
from adminui.schema.catalog import Catalog, dumps, read_catalog
from adminui.schema.reference import catalog_path, expected_ddl
from tests.pg_cluster import PG_PASSWORD, PgServer, start_cluster


def reference_database(
    pack: Pack, dialect: str, database: str, server: PgServer | None, folder: Path
) -> Database:
    """A new database holding exactly one database's expected schema, and no rows."""
    name = f"r_{uuid.uuid4().hex[:12]}"
    if dialect == "postgresql":
        assert server is not None
        server.psql(f"CREATE DATABASE {name}")
        url = normalize_url(server.url(name, password=False), "test")
        db = Database(Profile(name="test", url=url), PG_PASSWORD, pack=pack)
    else:
        url = normalize_url(f"sqlite:///{folder / f'{name}.sqlite'}", "test")
        db = Database(Profile(name="test", url=url), pack=pack, create=True)
    db.role = database
    db.run_script(expected_ddl(pack, dialect, database))
    return db


def expected_catalogs(pack: Pack, server: PgServer, folder: Path) -> dict[str, dict[str, Catalog]]:
    """Dialect -> database -> the catalog of a database made from its expected schema."""
    found: dict[str, dict[str, Catalog]] = {}
    for dialect in pack.dialects:
        for database in pack.databases:
            db = reference_database(pack, dialect, database, server, folder)
            try:
                found.setdefault(dialect, {})[database] = read_catalog(db)
            finally:
                db.dispose()
    return found


def main() -> None:
    with start_cluster() as server, tempfile.TemporaryDirectory() as folder:
        for pack in packs():
            path = catalog_path(pack)
            path.write_text(dumps(expected_catalogs(pack, server, Path(folder))), encoding="utf-8")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
