"""Schema health: which foreign keys of the reference schema the live database lacks, has not
validated or has disabled (the cause of orphan rows, seeds 003 and 004), and which recommended
indexes are missing. The app shows the DDL to copy; it never runs it (the SaaS app owns the
schema)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from adminui.db import Database
from adminui.errors import SetupError
from adminui.schema import ForeignKey, IndexAdvice, expected_foreign_keys, recommended_indexes
from adminui.schema.drift import index_text

KeyState = Literal["present", "missing", "not valid", "disabled", "unknown"]
BTREE = "btree "  # how PostgreSQL's definition of a plain index starts
SQLITE_NOTE = (
    "SQLite can't add a foreign key to an existing table: rebuild the table with it "
    "(https://www.sqlite.org/lang_altertable.html#otheralter)."
)


@dataclass(frozen=True)
class KeyHealth:
    key: ForeignKey
    state: KeyState
    fix: str  # what to run, or why there is nothing to run
    name: str = ""  # the live constraint's name (PostgreSQL), when there is one
    plain: bool = True  # between plain tables: no partition or inheriting table to get past it

    @property
    def check(self) -> str:
        """The orphan check its absence lets fill up."""
        return f"{self.key.table}.{self.key.column}"


@dataclass(frozen=True)
class IndexHealth:
    advice: IndexAdvice
    present: bool


def foreign_keys(db: Database) -> tuple[KeyHealth, ...]:
    """Every expected foreign key with its state in the live database that holds its table
    ('unknown', saying why, for a database the profile doesn't name)."""
    found = []
    expected = expected_foreign_keys(db.pack)
    for database in db.pack.databases:
        keys = [k for k in expected if db.pack.database_of(k.table) == database]
        if not keys:
            continue
        try:
            target = db.on(
                database, f"the foreign keys of {', '.join(sorted({k.table for k in keys}))}"
            )
        except SetupError as error:
            found += [KeyHealth(k, "unknown", str(error)) for k in keys]
            continue
        live = _live(target)  # one catalog read per database, not per key
        found += [_state(target, key, live) for key in keys]
    return tuple(found)


def _live(db: Database) -> dict[tuple[str, str, str, str], Any]:
    return {
        (r["child_table"], r["child_column"], r["parent_table"], r["parent_column"]): r
        for r in db.rows("live_foreign_keys")
    }


def _state(db: Database, key: ForeignKey, live: dict[tuple[str, str, str, str], Any]) -> KeyHealth:
    row = live.get((key.table, key.column, key.parent, key.parent_column))
    if row is None:
        return KeyHealth(key, "missing", SQLITE_NOTE if db.dialect == "sqlite" else key.ddl)
    name = row["name"] or ""
    if not row["validated"]:
        # The constraint holds for new rows only; validating it checks the old ones.
        return KeyHealth(
            key, "not valid", f"ALTER TABLE {key.table} VALIDATE CONSTRAINT {name};", name
        )
    if not row["enabled"]:
        # Its triggers were disabled (ALTER TABLE ... DISABLE TRIGGER): it checks nothing,
        # and turning them back on would leave the rows written meanwhile unchecked. Adding
        # the key again checks every row (and refuses while orphans remain: clean first).
        fix = (
            f"-- count with: adminui orphans scan --full; clean; then:\n"
            f"ALTER TABLE {key.table} DROP CONSTRAINT {name};\n{key.ddl}"
        )
        return KeyHealth(key, "disabled", fix, name)
    return KeyHealth(key, "present", "", name, bool(row["plain"]))


def enforcing_keys(db: Database) -> dict[str, str]:
    """Check name -> the live constraint that keeps its orphans out: validated (PostgreSQL
    checked every row when it was added), enabled (it checks every ordinary write since) and
    between plain tables. Writes with triggers off still get past it (replica mode: data-only
    restores, logical replication). Only PostgreSQL: SQLite checks foreign keys only on
    connections that ask it to."""
    if db.dialect != "postgresql":
        return {}
    return {k.check: k.name for k in foreign_keys(db) if k.state == "present" and k.plain}


def indexes(db: Database) -> tuple[IndexHealth, ...]:
    """Each recommended index and whether an index of that table has its columns (and, on
    PostgreSQL, its method) under any name. On SQLite (the D1 products) only the plain btree
    ones apply, written as SQLite writes them (no USING)."""
    sqlite = db.dialect == "sqlite"
    live: set[tuple[str, str]] = set()
    for database in db.pack.databases:
        try:
            target = db.on(database, "index advice")
        except SetupError:
            continue  # that database's advice is shown as missing: it can't be looked at
        live |= {
            (r["table_name"], _norm(index_text(r["definition"] or "")))
            for r in target.rows("live_indexes")
        }
    found = []
    for advice in recommended_indexes(db.pack):
        if sqlite:
            if not advice.definition.startswith(BTREE):
                continue  # a PostgreSQL method (a trigram index): nothing like it in SQLite
            advice = replace(
                advice,
                definition=advice.definition.removeprefix(BTREE),
                ddl=advice.ddl.replace(f" USING {BTREE.strip()}", ""),
            )
        found.append(IndexHealth(advice, (advice.table, _norm(advice.definition)) in live))
    return tuple(found)


def _norm(definition: str) -> str:
    """An index definition for comparing: no spaces, lower case, an operator class without its
    schema (Supabase keeps pg_trgm in `extensions`: extensions.gin_trgm_ops)."""
    return re.sub(r"\w+\.(?=\w+_ops\b)", "", re.sub(r"\s+", "", definition).lower())
