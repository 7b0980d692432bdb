"""The reference schema of seed 001 (queries/idea_expansion/schema/), one DDL file per dialect, for
the demo and the tests; and the two files the health view reads: the foreign keys it expects and
the indexes it recommends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from adminui.errors import QueryFileError
from adminui.queries import DEFAULT_PACK, default_query_dir

# The reference schema lives with the queries of its pack, under the same lock.
SCHEMA_DIR = default_query_dir() / DEFAULT_PACK / "schema"

_FOREIGN_KEY = re.compile(
    r"ALTER TABLE (?P<table>\w+) ADD CONSTRAINT (?P<name>\w+) FOREIGN KEY \((?P<column>\w+)\) "
    r"REFERENCES (?P<parent>\w+)\(id\) ON DELETE (?P<on_delete>CASCADE|SET NULL);$"
)
_INDEX = re.compile(r"CREATE INDEX (?P<name>\w+) ON (?P<table>\w+) USING (?P<definition>.+);$")
_EXTENSION = re.compile(r"CREATE EXTENSION IF NOT EXISTS \w+;$")


def schema_sql(dialect: str) -> str:
    """The reference DDL for 'postgresql' or 'sqlite'."""
    return (SCHEMA_DIR / f"{dialect}.sql").read_text(encoding="utf-8")


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
    """Every constraint in foreign_keys.sql, in file order. Any other statement there is
    refused: the file's lines are shown as DDL to copy (the vetted lock covers it too)."""
    keys = []
    text = (SCHEMA_DIR / "foreign_keys.sql").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("--"):
            continue
        if not (match := _FOREIGN_KEY.match(line)):
            raise QueryFileError(f"foreign_keys.sql:{number}: not an ADD CONSTRAINT ... line")
        keys.append(
            ForeignKey(
                match["table"],
                match["column"],
                match["parent"],
                match["name"],
                line,
                match["on_delete"],
            )
        )
    return tuple(keys)


def recommended_indexes() -> tuple[IndexAdvice, ...]:
    """Every paragraph of recommended_indexes.sql after the file's own header."""
    text = (SCHEMA_DIR / "recommended_indexes.sql").read_text(encoding="utf-8")
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
