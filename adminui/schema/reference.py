"""The statements of a pack's reference DDL, by what they create, for the drift check's fixes: a
missing table's CREATE TABLE with its indexes, triggers and policies, a missing column's
definition as the reference writes it, a missing index, trigger, function or policy's own
statement. The fix a person copies is then the text the product's schema was written in, not a
reconstruction of it.

The expected schema of one database is its reference DDL (`schema/postgresql.sql`, ...) plus,
where the pack has one, its row-level security (`schema/rls.postgresql.sql`: Supabase's policies,
kept apart because the demo runs without them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from adminui.errors import QueryFileError
from adminui.packs import MAIN, Pack
from adminui.schema import schema_dir, schema_sql
from adminui.schema.catalog import Catalog, loads
from adminui.schema.ddl import items

# What hides a semicolon: literals, quoted names, comments, dollar-quoted bodies.
_OPAQUE = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(?P<tag>\$\w*\$).*?(?P=tag)|--[^\n]*|/\*.*?\*/",
    re.DOTALL,
)
_CREATE_TABLE = re.compile(r"CREATE TABLE (\w+) \(", re.IGNORECASE)
_ON_TABLE = re.compile(
    r"^(?:CREATE (?:UNIQUE )?INDEX (?P<index>\w+) ON (?P<indexed>\w+)"
    r"|CREATE TRIGGER (?P<trigger>\w+)\b.*?\bON (?P<triggered>\w+)"
    r"|CREATE POLICY (?P<policy>\w+) ON (?P<policed>\w+)"
    r"|ALTER TABLE (?P<secured>\w+) ENABLE ROW LEVEL SECURITY)",
    re.IGNORECASE | re.DOTALL,
)
_FUNCTION = re.compile(r"^CREATE (?:OR REPLACE )?FUNCTION (\w+)\s*\(", re.IGNORECASE)


def split(ddl: str) -> list[str]:
    """The statements of a DDL text, each without its leading comments and its semicolon.
    A semicolon inside a literal, a comment, a $$ body, or a SQLite trigger's BEGIN ... END
    does not end a statement."""
    statements, start, at = [], 0, 0
    while at < len(ddl):
        opaque = _OPAQUE.match(ddl, at)
        if opaque:
            at = opaque.end()
            continue
        if ddl[at] == ";":
            text = _strip_comments(ddl[start:at])
            inside_trigger = re.match(r"CREATE TRIGGER\b", text, re.IGNORECASE) and re.search(
                r"\bBEGIN\b", text, re.IGNORECASE
            )
            if not inside_trigger or re.search(r"\bEND$", text, re.IGNORECASE):
                if text:
                    statements.append(text)
                start = at + 1
        at += 1
    if tail := _strip_comments(ddl[start:]):
        statements.append(tail)
    return statements


def _strip_comments(text: str) -> str:
    lines = text.strip().splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines).strip()


@dataclass(frozen=True)
class Reference:
    """One database's reference statements, indexed."""

    tables: dict[str, str] = field(default_factory=dict)  # CREATE TABLE, by table
    on_table: dict[str, list[str]] = field(default_factory=dict)  # its indexes, triggers, ...
    named: dict[str, str] = field(default_factory=dict)  # index/trigger/policy/function name

    def column(self, table: str, column: str) -> str | None:
        """A column's definition as the reference's CREATE TABLE writes it."""
        statement = self.tables.get(table)
        if statement is None:
            return None
        body = statement[statement.index("(") + 1 : statement.rindex(")")]
        for item in items(body):
            word = item.split(" ", 1)[0]
            if word.strip('"') == column:
                return item
        return None

    def table_ddl(self, table: str, rename: str = "") -> str:
        """The CREATE TABLE of a table (under another name if `rename`)."""
        statement = self.tables[table]
        if rename:
            statement = _CREATE_TABLE.sub(f"CREATE TABLE {rename} (", statement, count=1)
        return statement + ";"

    def dependents(self, table: str) -> list[str]:
        """The statements that go with a table once it exists: its indexes, triggers, row-level
        security and policies, in reference order."""
        return [s + ";" for s in self.on_table.get(table, [])]


def expected_files(pack: Pack, dialect: str, database: str = MAIN) -> list[Path]:
    """The files that make one database's expected schema: its reference DDL, then its
    row-level security where the pack has it."""
    prefix = "" if database == MAIN else f"{database}."
    files = [schema_dir(pack) / f"{prefix}{dialect}.sql"]
    rls = schema_dir(pack) / f"{prefix}rls.{dialect}.sql"
    return files + ([rls] if rls.is_file() else [])


def expected_ddl(pack: Pack, dialect: str, database: str = MAIN) -> str:
    """The text of expected_files, one after the other."""
    rls = expected_files(pack, dialect, database)[1:]
    return "\n".join([schema_sql(dialect, pack, database), *(p.read_text("utf-8") for p in rls)])


@cache
def reference(pack: Pack, dialect: str, database: str = MAIN) -> Reference:
    """One database's reference statements, read once per pack."""
    found = Reference()
    for statement in split(expected_ddl(pack, dialect, database)):
        if table := _CREATE_TABLE.match(statement):
            found.tables[table[1]] = statement
        elif on := _ON_TABLE.match(statement):
            table = on["indexed"] or on["triggered"] or on["policed"] or on["secured"]
            found.on_table.setdefault(table, []).append(statement)
            if name := on["index"] or on["trigger"] or on["policy"]:
                found.named[name] = statement + ";"
        elif function := _FUNCTION.match(statement):
            found.named[function[1]] = statement + ";"
    return found


CATALOG_FILE = "catalog.json"


def catalog_path(pack: Pack) -> Path:
    """The pack's expected catalogs: the catalog statements' reading of its reference schema."""
    return schema_dir(pack) / CATALOG_FILE


@cache
def expected_catalogs(pack: Pack) -> dict[str, dict[str, Catalog]]:
    """Dialect -> database -> the expected catalog, read once per pack."""
    path = catalog_path(pack)
    try:
        return loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise QueryFileError(f"{path}: can't be read as expected catalogs ({error})") from None
