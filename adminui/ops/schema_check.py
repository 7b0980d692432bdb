"""The schema check (`adminui schema check`, the Schema tab): every database of the product read
from its catalog and compared with the pack's expected schema, the migrations its tool recorded
with the migrations folder, and the recommended indexes beside (they are advice, not drift).

It reads the catalog, never the data: one read transaction of a few catalog statements per
database, whatever the tables hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from adminui.db import Database
from adminui.errors import AdminError, SetupError
from adminui.ops.health import IndexHealth, indexes
from adminui.packs import MAIN
from adminui.schema import drift, migrations
from adminui.schema.catalog import Catalog, read_catalog
from adminui.schema.drift import Finding
from adminui.schema.fixes import Fixes, one_line
from adminui.schema.reference import expected_catalogs

# Tables a tool keeps beside the product's own, never reported as extra: D1's record of
# wrangler's migrations (a product that tracks its migrations elsewhere names its own table).
TOOL_TABLES = ("d1_migrations",)


@dataclass(frozen=True)
class SchemaReport:
    findings: tuple[Finding, ...]
    unchecked: tuple[str, ...]  # a database of the product that could not be looked at, and why
    advice: tuple[IndexHealth, ...]  # the recommended indexes, present or not
    ignored: int = 0  # findings of the kinds left out

    @property
    def drifted(self) -> bool:
        return bool(self.findings)


def check(
    db: Database, *, ignore: frozenset[str] = frozenset(), migrations_dir: Path | None = None
) -> SchemaReport:
    """Every difference between the product's databases and its expected schema, and, with a
    migrations folder, between the folder and the migrations the database recorded."""
    pack = db.pack
    expected = expected_catalogs(pack)[db.dialect]
    if migrations_dir and not pack.migrations.tool:
        raise AdminError(
            f"{pack.title} records no migrations in its database (they are run by hand), so "
            "there is nothing to compare --migrations with."
        )
    folder = migrations.files(migrations_dir, pack.migrations.tool) if migrations_dir else None
    found: list[Finding] = []
    unchecked: list[str] = []
    for database in pack.databases:
        try:
            target = db.on(database, f"{pack.title}'s {pack.databases[database]} schema")
        except SetupError as error:
            unchecked.append(str(error))
            continue
        live = read_catalog(target)
        mine = _database_findings(target, database, expected, live)
        if database == MAIN and pack.migrations.tool:
            mine += migrations.compare(pack.migrations, _applied(target, live), folder)
        label = pack.databases[database] if len(pack.databases) > 1 else ""
        found += [replace(f, database=label) for f in mine]
    kept = [
        replace(
            f, object=one_line(f.object), expected=one_line(f.expected), actual=one_line(f.actual)
        )
        for f in found
        if f.kind not in ignore
    ]
    return SchemaReport(
        tuple(drift.ordered(kept)), tuple(unchecked), indexes(db), len(found) - len(kept)
    )


def _database_findings(
    db: Database, database: str, expected: dict[str, Catalog], live: Catalog
) -> list[Finding]:
    pack = db.pack
    fixes = Fixes(pack, db.dialect, database, expected[database], live)
    elsewhere = {
        table.name: pack.databases[other]
        for other, catalog in expected.items()
        if other != database
        for table in catalog.tables
    }
    unowned = {*TOOL_TABLES, pack.migrations.table} - {t.name for t in expected[database].tables}
    return drift.compare(expected[database], live, fixes, unowned=unowned, elsewhere=elsewhere)


def _applied(db: Database, live: Catalog) -> list | None:
    """The migration tool's rows, or None when the database has no such table."""
    if live.table(db.pack.migrations.table) is None:
        return None
    return list(db.rows("applied_migrations"))
