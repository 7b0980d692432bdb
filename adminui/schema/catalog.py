"""A database's schema as its own catalog says it: tables and columns, constraints, indexes,
triggers, functions, row-level security and policies, read by the vetted statements of
`queries/catalog.sql` (`catalog.sqlite.sql`).

The drift check compares two of these: the live database's, and the pack's expected catalog,
which is the same statements' reading of the reference schema, committed as
`queries/<pack>/schema/catalog.json` (a test reads the reference DDL into a fresh database again
and fails when the file differs). Both sides are the database's own words (PostgreSQL's
format_type, pg_get_expr, pg_get_constraintdef; SQLite's declared text), so no DDL parser stands
between the reference and the comparison; only SQLite's CHECK constraints, which it keeps
nowhere but in the CREATE TABLE text, are read out of that text here.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adminui.db import Database, Transaction

# Parts of SQL text the normaliser keeps as they are ('literals', "quoted names") or drops
# (comments).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
# SQLite's quoted names (a literal is matched first, so that a quote inside it is left alone).
_SQLITE_NAME = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]")
# What a policy covers, by pg_policy's letter for it.
COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
_CHECK = re.compile(r"\b(?:CONSTRAINT\s+(\"(?:[^\"]|\"\")*\"|\w+)\s+)?CHECK\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    row_security: bool = False

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Constraint:
    """A primary key, unique constraint, check or foreign key (`kind`: p, u, c, f)."""

    table: str
    kind: str
    name: str | None
    columns: tuple[str, ...] = ()
    definition: str = ""  # PostgreSQL's pg_get_constraintdef; a SQLite check's expression
    parent: str = ""
    parent_columns: tuple[str, ...] = ()  # empty: the parent's primary key (SQLite's "to" NULL)
    on_delete: str = ""
    validated: bool = True
    enabled: bool = True


@dataclass(frozen=True)
class Index:
    """An index a CREATE INDEX made: `definition` is PostgreSQL's after USING, or SQLite's
    CREATE INDEX text; `columns` its plain columns (empty for an expression or partial one)."""

    table: str
    name: str
    unique: bool
    columns: tuple[str, ...]
    definition: str
    valid: bool = True


@dataclass(frozen=True)
class Trigger:
    table: str
    name: str
    definition: str
    enabled: bool = True


@dataclass(frozen=True)
class Function:
    name: str
    arguments: str
    result: str = ""
    body: str = ""  # its source text (prosrc), compared without comments and spacing


@dataclass(frozen=True)
class Policy:
    table: str
    name: str
    command: str
    permissive: bool
    roles: str
    using: str | None
    check: str | None


@dataclass(frozen=True)
class Catalog:
    """Everything the drift check compares, of one database."""

    tables: tuple[Table, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    functions: tuple[Function, ...] = ()
    policies: tuple[Policy, ...] = ()

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        """A catalog from its to_json() form (lists back to tuples)."""
        kinds = {
            "constraints": Constraint,
            "indexes": Index,
            "triggers": Trigger,
            "functions": Function,
            "policies": Policy,
        }
        tables = tuple(
            Table(t["name"], tuple(Column(**c) for c in t["columns"]), t["row_security"])
            for t in data.get("tables", [])
        )
        return cls(
            tables,
            **{
                key: tuple(_record(kind, item) for item in data.get(key, []))
                for key, kind in kinds.items()
            },
        )


def _record(kind: type, item: dict[str, Any]) -> Any:
    tuples = {f.name for f in fields(kind) if "tuple" in str(f.type)}
    return kind(**{k: tuple(v) if k in tuples else v for k, v in item.items()})


def dumps(catalogs: dict[str, dict[str, Catalog]]) -> str:
    """The expected-catalog file's text: dialect -> database -> catalog, one object per line
    (a review sees which table, key or index changed)."""

    def listed(items: list[Any], indent: str) -> str:
        lines = [indent + " " + json.dumps(i, sort_keys=True, ensure_ascii=False) for i in items]
        return "[\n" + ",\n".join(lines) + f"\n{indent}]" if items else "[]"

    def block(pairs: dict[str, str], indent: str) -> str:
        inner = ",\n".join(f'{indent} "{key}": {value}' for key, value in pairs.items())
        return "{\n" + inner + f"\n{indent}}}"

    return (
        block(
            {
                dialect: block(
                    {
                        database: block(
                            {k: listed(v, "   ") for k, v in sorted(c.to_json().items())}, "  "
                        )
                        for database, c in sorted(by.items())
                    },
                    " ",
                )
                for dialect, by in sorted(catalogs.items())
            },
            "",
        )
        + "\n"
    )


def loads(text: str) -> dict[str, dict[str, Catalog]]:
    return {
        dialect: {database: Catalog.from_json(c) for database, c in by.items()}
        for dialect, by in json.loads(text).items()
    }


def read_catalog(db: Database) -> Catalog:
    """The live catalog of one database, read in one read-only transaction."""
    with db.read() as tx:
        return _read(tx, db.dialect)


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _read(tx: Transaction, dialect: str) -> Catalog:
    columns: dict[str, list[Column]] = {}
    for r in tx.rows("catalog_columns"):
        columns.setdefault(r["table_name"], []).append(
            Column(r["column_name"], r["data_type"], bool(r["nullable"]), r["default_value"])
        )
    table_rows = tx.rows("catalog_tables")
    tables = tuple(
        Table(r["table_name"], tuple(columns.get(r["table_name"], ())), bool(r["row_security"]))
        for r in table_rows
    )
    constraints = [
        Constraint(
            r["table_name"],
            r["kind"],
            r["name"],
            _names(r["columns"]),
            r["definition"] or "",
            r["parent_table"] or "",
            tuple(c for c in _names(r["parent_columns"]) if c),
            r["on_delete"] or "",
            bool(r["validated"]),
            bool(r["enabled"]),
        )
        for r in tx.rows("catalog_constraints")
    ]
    if dialect == "sqlite":  # SQLite's checks live only in the CREATE TABLE text
        for r in table_rows:
            constraints += [
                Constraint(r["table_name"], "c", name, definition=expression)
                for name, expression in checks(r["definition"] or "")
            ]
    indexes = tuple(
        Index(
            r["table_name"],
            r["index_name"],
            bool(r["is_unique"]),
            _names(r["columns"]),
            r["definition"] or "",
            bool(r["valid"]),
        )
        for r in tx.rows("catalog_indexes")
    )
    triggers = tuple(
        Trigger(r["table_name"], r["trigger_name"], r["definition"] or "", bool(r["enabled"]))
        for r in tx.rows("catalog_triggers")
    )
    functions = tuple(
        Function(r["function_name"], r["arguments"] or "", r["result"] or "", r["body"] or "")
        for r in tx.rows("catalog_functions")
    )
    policies = tuple(
        Policy(
            r["table_name"],
            r["policy_name"],
            COMMANDS.get(r["command"], r["command"]),
            bool(r["permissive"]),
            r["roles"] or "",
            r["using_expression"],
            r["check_expression"],
        )
        for r in tx.rows("catalog_policies")
    )
    return Catalog(
        tables,
        tuple(sorted(constraints, key=lambda c: (c.table, c.kind, c.columns, c.definition))),
        indexes,
        triggers,
        functions,
        policies,
    )


def checks(create_table: str) -> list[tuple[str | None, str]]:
    """The CHECK constraints of a CREATE TABLE text, (name or None, expression inside the
    parentheses), in order; comments are skipped, literals and quoted names kept whole."""
    text = _blank_comments(create_table)
    masked = _mask(text)
    found = []
    for match in _CHECK.finditer(masked):
        start = match.end()
        depth, at = 1, start
        while at < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(masked[at], 0)
            at += 1
        quoted = text[match.start(1) : match.end(1)] if match[1] else None
        name = quoted[1:-1].replace('""', '"') if quoted and quoted[0] == '"' else quoted
        found.append((name, " ".join(text[start : at - 1].split())))
    return found


def _blank_comments(text: str) -> str:
    """The text with its comments turned into spaces (same length: positions still hold)."""
    return _TOKENS.sub(lambda m: " " * len(m[0]) if m[0][0] in "-/" else m[0], text)


def _mask(text: str) -> str:
    """The text with literals and quoted names turned into x's (same length), so that a
    parenthesis or keyword inside one is not taken for SQL."""
    return _TOKENS.sub(lambda m: m[0][0] + "x" * (len(m[0]) - 2) + m[0][-1], text)


@lru_cache(maxsize=4096)  # the same few hundred texts, compared at every check
def normal(sql: str | None, sqlite: bool = False) -> str:
    """SQL text in one form for comparing: no comments, one space between words, none inside
    parentheses or before a comma, lower case outside literals and quoted names. On SQLite a
    name means the same quoted ("x", `x`, [x]) or not, in any case: written as plain lower case."""
    if sql is None:
        return ""
    if sqlite:
        sql = _SQLITE_NAME.sub(lambda m: m[0] if m[0][0] == "'" else m[0][1:-1].lower(), sql)
    parts, last = [], 0
    for match in _TOKENS.finditer(sql):
        parts.append(sql[last : match.start()].lower())
        if match[0][0] not in "-/":
            parts.append(match[0])
        parts.append(" ")
        last = match.end()
    parts.append(sql[last:].lower())
    text = " ".join("".join(parts).split())
    return re.sub(r"\s*([(),])\s*", r"\1", text).replace(",", ", ")
