"""A pack's reference schema (queries/<pack>/schema/), one DDL file per dialect and database
(`postgresql.sql`, `sqlite.sql`; a second database's `data.postgresql.sql`, ...), for the demo and
the tests; the foreign keys the health view expects, one per relation of the manifest (pack.toml)
within a database, named and acted as the DDL declares it; and the indexes it recommends: those
its queries want (schema/recommended_indexes.sql, with the figures that argue for each) and one
for every relation whose child column no index of the schema leads with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from adminui.errors import QueryFileError
from adminui.packs import MAIN, Pack, load_pack
from adminui.queries import default_query_dir
from adminui.schema.ddl import TableDDL, tables


def schema_dir(pack: Pack | None = None) -> Path:
    """The `schema/` folder of a pack (default: Idea Expansion's)."""
    return default_query_dir() / (pack or load_pack()).folder / "schema"


_INDEX = re.compile(r"CREATE INDEX (?P<name>\w+) ON (?P<table>\w+) USING (?P<definition>.+);$")
_EXTENSION = re.compile(r"CREATE EXTENSION IF NOT EXISTS \w+;$")


def schema_sql(dialect: str, pack: Pack | None = None, database: str = MAIN) -> str:
    """A pack's reference DDL of one of its databases, for 'postgresql' or 'sqlite'."""
    name = f"{dialect}.sql" if database == MAIN else f"{database}.{dialect}.sql"
    return (schema_dir(pack) / name).read_text(encoding="utf-8")


def reference_tables(pack: Pack | None = None) -> dict[str, TableDDL]:
    """Every table of the pack's reference schema (all its databases), by name, in DDL order."""
    return dict(_reference_tables(pack or load_pack()))


# The files are under the vetted lock: read and parsed once per pack (the health view asks at
# every refresh).
@cache
def _reference_tables(pack: Pack) -> dict[str, TableDDL]:
    found: dict[str, TableDDL] = {}
    for database in pack.databases:
        found |= tables(schema_sql(pack.reference_dialect, pack, database))
    return found


@dataclass(frozen=True)
class ForeignKey:
    """One constraint the reference schema declares, with the statement that adds it."""

    table: str
    column: str
    parent: str
    name: str
    ddl: str
    on_delete: str  # "CASCADE", "SET NULL" or "NO ACTION": what deleting a parent row does
    parent_column: str = "id"  # the parent's key it refers to


@dataclass(frozen=True)
class IndexAdvice:
    """One recommended index: why, the statements to create it, and what identifies it."""

    table: str
    definition: str  # what PostgreSQL's pg_get_indexdef shows after USING
    why: str
    ddl: str


def expected_foreign_keys(pack: Pack | None = None) -> tuple[ForeignKey, ...]:
    """Every relation of the pack's manifest within one database, as the constraint the
    reference DDL declares for it (its name, or PostgreSQL's default name), with the statement
    that adds it back; in the order of the reference DDL (tables, then their keys)."""
    pack = pack or load_pack()
    wanted = {(r.table, r.column): r for r in pack.relations if not pack.crosses(r)}
    found = []
    for table in reference_tables(pack).values():
        for key in table.foreign_keys:
            if wanted.pop((table.name, key.column), None) is None:
                continue
            name = key.name or f"{table.name}_{key.column}_fkey"
            action = "" if key.on_delete == "no action" else f" ON DELETE {key.on_delete.upper()}"
            found.append(
                ForeignKey(
                    table.name,
                    key.column,
                    key.parent,
                    name,
                    f"ALTER TABLE {table.name} ADD CONSTRAINT {name} FOREIGN KEY ({key.column}) "
                    f"REFERENCES {key.parent}({key.parent_column}){action};",
                    key.on_delete.upper(),
                    key.parent_column,
                )
            )
    if wanted:
        raise QueryFileError(
            f"{pack.folder}: the reference schema declares no foreign key for "
            f"{', '.join(f'{t}.{c}' for t, c in wanted)}"
        )
    return tuple(found)


def recommended_indexes(pack: Pack | None = None) -> tuple[IndexAdvice, ...]:
    """Every paragraph of recommended_indexes.sql after the file's own header (a pack may have
    none), then an index for each relation whose child column neither the reference schema nor
    those paragraphs lead an index with: deleting a parent row (ON DELETE), and an orphan
    clean's dependents, look its rows up by that column."""
    pack = pack or load_pack()
    advice = _advice_file(schema_dir(pack) / "recommended_indexes.sql")
    ddl = reference_tables(pack)
    covered = {(a.table, _leading(a.definition)) for a in advice}
    for r in pack.relations:
        if r.column in ddl[r.table].leading or (r.table, r.column) in covered:
            continue
        why = (
            f"deleting a {r.parent} row makes the database find its {r.table} rows by {r.column}"
            f" ({r.on_delete}), and an orphan clean finds them the same way: without it each is "
            f"a scan of {r.table}."
        )
        create = f"CREATE INDEX {r.table}_{r.column} ON {r.table} USING btree ({r.column});"
        advice.append(IndexAdvice(r.table, f"btree ({r.column})", why, create))
    return tuple(advice)


def _leading(definition: str) -> str:
    """The column an index definition ('btree (user_id, started_at DESC)') starts with."""
    return re.split(r"[ ,)]", definition.split("(", 1)[-1], maxsplit=1)[0]


def _advice_file(path: Path) -> list[IndexAdvice]:
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    advice = []
    for paragraph in text.strip().split("\n\n")[1:]:
        lines = paragraph.splitlines()
        why = " ".join(x.removeprefix("-- why:").strip() for x in lines if x.startswith("-- why:"))
        ddl = [x for x in lines if not x.startswith("--")]
        index = _INDEX.match(ddl[-1]) if ddl else None
        if not index or not all(_EXTENSION.match(x) for x in ddl[:-1]):
            raise QueryFileError(
                f"recommended_indexes.sql: a paragraph holds other than CREATE EXTENSION IF NOT "
                f"EXISTS lines and one CREATE INDEX: {paragraph[:80]!r}"
            )
        advice.append(IndexAdvice(index["table"], index["definition"], why, "\n".join(ddl)))
    return advice
