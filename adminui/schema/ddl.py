"""The tables of a pack's reference DDL (`schema/postgresql.sql`) as data: each column with the
type a bound value is cast to, whether it may be NULL, the table's key, the foreign keys it
declares (with their constraint names, where the DDL gives one) and the columns its indexes lead
with. The generated orphan statements take their column lists from here, so a column added to the
reference schema reaches every preview, backup and restore by regenerating, not by editing a
dozen statements; the foreign-key health view takes each constraint's name and action from here.

It reads the subset of DDL the reference schemas are written in (one `CREATE TABLE name (` per
table, one column or table constraint per top-level comma), not SQL at large; anything else in
the file is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adminui.errors import QueryFileError

_TABLE = re.compile(r"^CREATE TABLE (\w+) \(\n(.*?)\n\);", re.DOTALL | re.MULTILINE)
_INDEX = re.compile(r"^CREATE (?:UNIQUE )?INDEX \w+ ON (\w+) \((\w+)", re.MULTILINE)
_REFERENCES = re.compile(
    r"REFERENCES (\w+)\((\w+)\)(?: ON DELETE (CASCADE|SET NULL|NO ACTION|RESTRICT))?", re.I
)
_NAMED_KEY = re.compile(r"CONSTRAINT (\w+) FOREIGN KEY \((\w+)\) (REFERENCES .*)$", re.I)
_UNIQUE = re.compile(r"(?:PRIMARY KEY|UNIQUE) \((\w+)", re.I)
_TABLE_CONSTRAINT = ("PRIMARY KEY", "UNIQUE", "CONSTRAINT", "FOREIGN KEY", "CHECK")
# Where a column's type ends: the first word that starts a column constraint or default.
_AFTER_TYPE = re.compile(
    r"\s+(?:NOT\b|NULL\b|DEFAULT\b|PRIMARY\b|REFERENCES\b|UNIQUE\b|CHECK\b|GENERATED\b|COLLATE\b)"
)
# The type a bound value is cast to, by the type as the DDL writes it (upper case, no size).
_CAST = {
    "UUID": "uuid",
    "TEXT": "text",
    "VARCHAR": "text",
    "JSONB": "jsonb",
    "JSON": "json",
    "INT": "integer",
    "INTEGER": "integer",
    "SERIAL": "integer",
    "BIGINT": "bigint",
    "BIGSERIAL": "bigint",
    "NUMERIC": "numeric",
    "DECIMAL": "numeric",
    "BOOLEAN": "boolean",
    "TIMESTAMPTZ": "timestamptz",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "TEXT[]": "text[]",
}


@dataclass(frozen=True)
class Column:
    name: str
    cast: str  # the PostgreSQL type a bound value is cast to: 'uuid', 'text[]', 'numeric', ...
    nullable: bool


@dataclass(frozen=True)
class DeclaredKey:
    """A foreign key as the DDL declares it: inline (`REFERENCES p(id) ON DELETE ...`, named as
    PostgreSQL names it) or as a named table constraint."""

    column: str
    parent: str
    parent_column: str
    on_delete: str  # 'cascade', 'set null' or 'no action'
    name: str | None  # None: PostgreSQL's own name, <table>_<column>_fkey


@dataclass(frozen=True)
class TableDDL:
    name: str
    columns: tuple[Column, ...]
    key: str  # the single-column primary key
    foreign_keys: tuple[DeclaredKey, ...] = ()
    leading: frozenset[str] = frozenset()  # columns some index, key or UNIQUE starts with

    @property
    def key_type(self) -> str:
        """The type its key is bound as ('uuid', 'text', 'integer', ...)."""
        return self.column(self.key).cast

    def column(self, name: str) -> Column:
        found = [c for c in self.columns if c.name == name]
        if not found:
            raise QueryFileError(f"the reference schema has no column {self.name}.{name}")
        return found[0]


def tables(ddl: str) -> dict[str, TableDDL]:
    """Every CREATE TABLE of the reference DDL, by name, columns in their declared order."""
    indexed: dict[str, set[str]] = {}
    for table, column in _INDEX.findall(ddl):
        indexed.setdefault(table, set()).add(column)
    return {
        match[1]: _table(match[1], match[2], indexed.get(match[1], set()))
        for match in _TABLE.finditer(ddl)
    }


def _table(name: str, body: str, indexed: set[str]) -> TableDDL:
    columns, key, keys, leading = [], None, [], set(indexed)
    for item in items(body):
        upper = item.upper()
        if upper.startswith(_TABLE_CONSTRAINT):
            if primary := re.match(r"PRIMARY KEY \((\w+)\)$", item, re.IGNORECASE):
                key = primary[1]
            if unique := _UNIQUE.search(item):
                leading.add(unique[1])
            if named := _NAMED_KEY.match(item):
                keys.append(_declared(named[2], named[3], named[1]))
            continue
        column, _, rest = item.partition(" ")
        written = _AFTER_TYPE.split(rest, maxsplit=1)[0].strip().upper()
        cast = _CAST.get(re.sub(r"\(.*?\)", "", written).strip())
        if cast is None:
            raise QueryFileError(f"reference schema: {name}.{column} has a type adminui can't bind")
        primary_key = "PRIMARY KEY" in upper
        if primary_key:
            key = column
        if primary_key or re.search(r"\bUNIQUE\b", upper):
            leading.add(column)
        if "REFERENCES" in upper:
            keys.append(_declared(column, item, None))
        columns.append(Column(column, cast, not (primary_key or "NOT NULL" in upper)))
    if key is None:
        raise QueryFileError(f"reference schema: {name} has no single-column primary key")
    return TableDDL(name, tuple(columns), key, tuple(keys), frozenset(leading | {key}))


def _declared(column: str, text: str, name: str | None) -> DeclaredKey:
    found = _REFERENCES.search(text)
    if found is None:
        raise QueryFileError(f"reference schema: can't read the foreign key of {column}")
    action = (found[3] or "no action").lower()
    return DeclaredKey(
        column, found[1], found[2], "no action" if action == "restrict" else action, name
    )


def items(body: str) -> list[str]:
    """The comma-separated items of a CREATE TABLE body (commas inside parentheses or quotes
    don't split), each on one line, without its comments."""
    text = " ".join(line.split("--")[0].strip() for line in body.splitlines())
    items, depth, quoted, start = [], 0, False, 0
    for at, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and depth == 0 and char == ",":
            items.append(text[start:at].strip())
            start = at + 1
    items.append(text[start:].strip())
    return [" ".join(item.split()) for item in items if item]
