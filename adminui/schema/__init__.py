"""The reference schema of seed 001 (queries/idea_expansion/schema/), one DDL file per dialect, for
the demo and the tests; the foreign keys the health view expects, derived from the pack's
relations (pack.toml); and the indexes it recommends (schema/recommended_indexes.sql)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from adminui.errors import QueryFileError
from adminui.packs import Pack, Relation, load_pack
from adminui.queries import default_query_dir


def schema_dir(pack: Pack | None = None) -> Path:
    """The `schema/` folder of a pack (default: Idea Expansion's)."""
    return default_query_dir() / (pack or load_pack()).folder / "schema"


_INDEX = re.compile(r"CREATE INDEX (?P<name>\w+) ON (?P<table>\w+) USING (?P<definition>.+);$")
_EXTENSION = re.compile(r"CREATE EXTENSION IF NOT EXISTS \w+;$")


def schema_sql(dialect: str, pack: Pack | None = None) -> str:
    """A pack's reference DDL for 'postgresql' or 'sqlite'."""
    return (schema_dir(pack) / f"{dialect}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class ForeignKey:
    """One constraint the reference schema declares, with the statement that adds it."""

    table: str
    column: str
    parent: str
    name: str
    ddl: str
    on_delete: str  # "CASCADE" or "SET NULL": what deleting a parent row does to the child


@dataclass(frozen=True)
class IndexAdvice:
    """One recommended index: why, the statements to create it, and what identifies it."""

    table: str
    definition: str  # what PostgreSQL's pg_get_indexdef shows after USING
    why: str
    ddl: str


def expected_foreign_keys() -> tuple[ForeignKey, ...]:
    """Every relation of the pack's manifest as the constraint that keeps it, with the statement
    that adds it back, listed in the order of the reference DDL (tables, then their columns)."""
    ddl = schema_sql("postgresql")

    def position(relation: Relation) -> tuple[int, int]:
        table = ddl.find(f"CREATE TABLE {relation.table} (")
        return table, ddl.find(f"\n  {relation.column} ", table)

    return tuple(
        ForeignKey(
            r.table,
            r.column,
            r.parent,
            f"{r.table}_{r.column}_fkey",
            f"ALTER TABLE {r.table} ADD CONSTRAINT {r.table}_{r.column}_fkey FOREIGN KEY "
            f"({r.column}) REFERENCES {r.parent}(id) ON DELETE {r.on_delete.upper()};",
            r.on_delete.upper(),
        )
        for r in sorted(load_pack().relations, key=position)
    )


def recommended_indexes() -> tuple[IndexAdvice, ...]:
    """Every paragraph of recommended_indexes.sql after the file's own header."""
    text = (schema_dir() / "recommended_indexes.sql").read_text(encoding="utf-8")
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
    return tuple(advice)
