"""The DDL that would fix each kind of drift, per dialect, for a person to read and copy: adminui
never runs it (the SaaS app owns the schema). Wherever the reference DDL has the statement, the
fix is that statement as the product's schema writes it; otherwise it is written from the
expected catalog (PostgreSQL's own pg_get_constraintdef text).

SQLite can't change a column's type, nullability or default, nor add a key or a CHECK to a
table, in place: those fixes are SQLite's documented table rebuild
(https://www.sqlite.org/lang_altertable.html#otheralter) with the reference CREATE TABLE. On D1,
where foreign keys are always on and a file runs as one transaction, the rebuild defers the key
checks instead, and warns that dropping a parent table fires its children's ON DELETE actions.

Like the orphan statements' generator, this module writes SQL text by design; none of it runs.
"""

from __future__ import annotations

import re
import shlex
import unicodedata

from adminui.packs import Pack
from adminui.schema.catalog import (
    Catalog,
    Column,
    Constraint,
    Function,
    Index,
    Policy,
    Table,
    Trigger,
)
from adminui.schema.reference import reference

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REBUILT = "adminui_rebuild_"  # the rebuilt table's name until it takes the old one's


def one_line(text: str) -> str:
    """Text that stays inside a `--` comment and on one line of a table: a control or line
    separator character (a live database's names may hold any) as \\uXXXX. A newline in a
    name would end the comment, and what follows it would be SQL in the fix a person copies."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )


def ident(name: str) -> str:
    """A name as SQL text: as it is when plain, else double-quoted (a live database's names
    are not ours: a fix must name exactly them)."""
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


def column_text(column: Column) -> str:
    """A column as a finding shows it: type, NOT NULL, DEFAULT."""
    null = "" if column.nullable else " NOT NULL"
    default = f" DEFAULT {column.default}" if column.default is not None else ""
    return f"{column.data_type}{null}{default}"


def key_text(constraint: Constraint, parent_key: tuple[str, ...] = ()) -> str:
    """A foreign key, unique, primary key or check as a finding shows it."""
    written = constraint.definition
    if written and (constraint.kind != "c" or written.upper().startswith("CHECK")):
        return written  # PostgreSQL's pg_get_constraintdef (a SQLite check is its expression)
    columns = ", ".join(constraint.columns)
    if constraint.kind == "p":
        return f"PRIMARY KEY ({columns})"
    if constraint.kind == "u":
        return f"UNIQUE ({columns})"
    if constraint.kind == "c":
        return f"CHECK ({constraint.definition})"
    action = "" if constraint.on_delete in ("", "no action") else " " + on_delete(constraint)
    parent = ", ".join(constraint.parent_columns or parent_key)
    return f"FOREIGN KEY ({columns}) REFERENCES {constraint.parent}({parent}){action}"


def on_delete(constraint: Constraint) -> str:
    return f"ON DELETE {(constraint.on_delete or 'no action').upper()}"


def policy_text(policy: Policy) -> str:
    """A policy's rule as a finding shows it."""
    parts = (
        f"FOR {policy.command}",
        "" if policy.permissive else "AS RESTRICTIVE",
        f"TO {policy.roles}" if policy.roles and policy.roles != "public" else "",
        f"USING {policy.using}" if policy.using else "",
        f"WITH CHECK {policy.check}" if policy.check else "",
    )
    return " ".join(part for part in parts if part)


# What a column's definition says inline for a key or check of each kind.
_INLINE = {"c": "CHECK", "f": "REFERENCES", "u": "UNIQUE"}


class Fixes:
    """The fixes for one database of a pack, in its dialect."""

    def __init__(self, pack: Pack, dialect: str, database: str, expected: Catalog, live: Catalog):
        self.reference = reference(pack, dialect, database)
        self.sqlite = dialect == "sqlite"
        self.d1 = pack.reference_dialect == "sqlite"  # a SQLite-only product runs on D1
        self.expected = expected
        self.live = live

    def missing_table(self, table: str) -> str:
        return "\n".join([self.reference.table_ddl(table), *self.reference.dependents(table)])

    def extra_table(self, table: str, held_by: str) -> str:
        where = f" ({held_by} holds the product's {table})" if held_by else ""
        # Quoted for the shell too: a live table's name is anyone's text.
        backup = ".backup" if self.sqlite else f"pg_dump {shlex.quote(f'--table={ident(table)}')}"
        return (
            f"-- Not part of the product's schema{where}. Its rows are data: back them up "
            f"({one_line(backup)}) and move what is still needed before dropping it.\n"
            f"DROP TABLE {ident(table)};"
        )

    def missing_column(self, table: str, column: Column, keys: list[Constraint]) -> str:
        """The column as the reference writes it, with the keys and checks on it that its own
        definition doesn't make."""
        written = self.reference.column(table, column.name)
        separate = [k for k in keys if written is None or _INLINE[k.kind] not in written.upper()]
        if written is None or (self.sqlite and (separate or not _sqlite_can_add(written))):
            return self.rebuild(table)
        return "\n".join(
            [f"ALTER TABLE {ident(table)} ADD COLUMN {written};", *map(self._add, separate)]
        )

    def extra_column(self, table: str, column: str) -> str:
        data = (
            f"-- {one_line(f'{table}.{column}')} is not in the product's schema. Its values "
            "are data: copy them to where the schema keeps them first.\n"
        )
        if self.sqlite and self._used_by_keys(table, column):
            return data + self.rebuild(table)
        return data + f"ALTER TABLE {ident(table)} DROP COLUMN {ident(column)};"

    def alter_column(self, kind: str, table: str, column: Column) -> str:
        """The fix of a `type`, `nullable` or `default` difference."""
        if self.sqlite:
            return self.rebuild(table)
        alter = f"ALTER TABLE {ident(table)} ALTER COLUMN {ident(column.name)}"
        if kind == "type":
            cast = f"CAST({ident(column.name)} AS {column.data_type})"
            return f"{alter} TYPE {column.data_type} USING {cast};"
        if kind == "nullable":
            if column.nullable:
                return f"{alter} DROP NOT NULL;"
            return (
                f"-- Fails while a row holds NULL: find them with "
                f"SELECT ... WHERE {ident(column.name)} IS NULL.\n{alter} SET NOT NULL;"
            )
        if column.default is None:
            return f"{alter} DROP DEFAULT;"
        return f"{alter} SET DEFAULT {column.default};"

    def add_constraint(
        self, constraint: Constraint, taken: Constraint | Index | None = None
    ) -> str:
        """The fix of a missing key, unique or check; `taken`, a live one of the same name (or
        the same table's other primary key) that says something else, is dropped in the same
        statement; an index of the name (a unique made by hand, or left invalid), first."""
        if isinstance(taken, Index):
            return f"DROP INDEX {ident(taken.name)};\n" + self.add_constraint(constraint)
        table = constraint.table
        if self.sqlite:
            if constraint.kind == "u":  # a unique index keeps the same promise, in place
                name = ident(f"{table}_{'_'.join(constraint.columns)}_unique")
                columns = ", ".join(map(ident, constraint.columns))
                return f"CREATE UNIQUE INDEX {name} ON {ident(table)} ({columns});"
            return self.rebuild(table)
        orphans = (
            "-- Rows that break it make this fail: count and clean them first (adminui "
            "orphans scan).\n"
            if constraint.kind == "f"
            else ""
        )
        return orphans + self._add(constraint, taken)

    def _add(self, constraint: Constraint, taken: Constraint | None = None) -> str:
        table = constraint.table
        name = constraint.name or f"{table}_{'_'.join(constraint.columns)}_fkey"
        drop = f"DROP CONSTRAINT {ident(taken.name or '')}, " if taken else ""
        return (
            f"ALTER TABLE {ident(table)} {drop}ADD CONSTRAINT {ident(name)} {key_text(constraint)};"
        )

    def replace_key(self, expected: Constraint, live: Constraint) -> str:
        """The fix of a foreign key that acts otherwise: the live one dropped and the expected
        one added, in one statement (no moment without a key)."""
        if self.sqlite:
            return self.rebuild(expected.table)
        return self._add(expected, live)

    def validate_key(self, live: Constraint) -> str:
        # The constraint holds for new rows only; validating it checks the old ones.
        return (
            "-- Fails while rows break it: count and clean them first (adminui orphans scan).\n"
            f"ALTER TABLE {ident(live.table)} VALIDATE CONSTRAINT {ident(live.name or '')};"
        )

    def enable_key(self, expected: Constraint, live: Constraint) -> str:
        # Its triggers were disabled: turning them back on would leave the rows written
        # meanwhile unchecked. Adding the key again checks every row (clean first).
        return (
            "-- Rows written while it was off were never checked: count and clean them "
            "(adminui orphans scan --full), then:\n" + self._add(expected, live)
        )

    def missing_index(self, index: Index, live: Index | None) -> str:
        """The index as the reference creates it; a live index of its name (invalid, or
        another definition) dropped first."""
        create = self.reference.named.get(index.name)
        if create is None:
            unique = "UNIQUE " if index.unique else ""
            using = f" USING {index.definition}" if not self.sqlite else ""
            create = f"CREATE {unique}INDEX {ident(index.name)} ON {ident(index.table)}{using};"
        return f"DROP INDEX {ident(live.name)};\n{create}" if live is not None else create

    def missing_trigger(self, trigger: Trigger, live: Trigger | None, *, replace: bool) -> str:
        create = self.reference.named.get(trigger.name, trigger.definition + ";")
        if live is None:
            return create
        if not replace:  # there, but disabled
            return f"ALTER TABLE {ident(trigger.table)} ENABLE TRIGGER {ident(live.name)};"
        on = "" if self.sqlite else f" ON {ident(live.table)}"
        return f"DROP TRIGGER {ident(live.name)}{on};\n{create}"

    def missing_function(self, function: Function, live: Function | None) -> str:
        create = self.reference.named.get(function.name, "")
        if live is not None and live.result != function.result:  # OR REPLACE can't change it
            return f"DROP FUNCTION {ident(live.name)}({live.arguments});\n{create}"
        return create

    def enable_row_security(self, table: str) -> str:
        return f"ALTER TABLE {ident(table)} ENABLE ROW LEVEL SECURITY;"

    def missing_policy(self, policy: Policy, live: Policy | None) -> str:
        create = self.reference.named.get(policy.name, "")
        if live is None:
            return create
        return f"DROP POLICY {ident(live.name)} ON {ident(live.table)};\n{create}"

    def extra_policy(self, policy: Policy) -> str:
        return (
            "-- Not one of the product's policies: a permissive policy widens what a role may "
            "read or write.\n"
            f"DROP POLICY {ident(policy.name)} ON {ident(policy.table)};"
        )

    def rebuild(self, table: str) -> str:
        """SQLite's table rebuild: the reference table made under another name, the rows that
        both have copied in, the old table dropped, the new one renamed, its indexes and
        triggers made again. What the rebuild loses is said before it: the live table's
        columns and indexes the reference lacks, and on D1 the rows of the tables whose keys
        point at it."""
        expected = self.expected.table(table)
        live = self._live_table(table)
        assert expected is not None and live is not None
        live_names = {c.name.lower(): c.name for c in live.columns}
        kept = [
            live_names[c.name.lower()] for c in expected.columns if c.name.lower() in live_names
        ]
        columns = ", ".join(map(ident, kept))
        steps = [
            self.reference.table_ddl(table, f"{REBUILT}{table}"),
            f"INSERT INTO {REBUILT}{table} ({columns}) SELECT {columns} FROM {ident(live.name)};",
            f"DROP TABLE {ident(live.name)};",
            f"ALTER TABLE {REBUILT}{table} RENAME TO {ident(table)};",
            *self.reference.dependents(table),
        ]
        head = [
            f"-- SQLite can't alter {table} in place: rebuild it with its reference definition "
            "(https://www.sqlite.org/lang_altertable.html#otheralter), after a backup."
        ]
        wanted = {c.name.lower() for c in expected.columns}
        lost = [c.name for c in live.columns if c.name.lower() not in wanted]
        indexes = [i.name for i in self.live.indexes if i.table.lower() == table.lower()]
        reference_indexes = {i.name.lower() for i in self.expected.indexes}
        lost_indexes = [name for name in indexes if name.lower() not in reference_indexes]
        if lost or lost_indexes:
            gone = ", ".join(
                [*(f"column {c}" for c in lost), *(f"index {i}" for i in lost_indexes)]
            )
            head.append(
                f"-- Not carried over (the reference lacks them): {one_line(gone)}. Copy what "
                "they hold first."
            )
        if not self.d1:
            body = ["PRAGMA foreign_keys = OFF;", "BEGIN;", *steps]
            body += ["PRAGMA foreign_key_check;", "COMMIT;", "PRAGMA foreign_keys = ON;"]
            return "\n".join([*head, *body])
        children = sorted(
            {
                f"{c.table} ({c.on_delete})"
                for c in (*self.expected.constraints, *self.live.constraints)
                if c.kind == "f"
                and c.parent.lower() == table.lower()
                and c.on_delete in ("cascade", "set null")
            }
        )
        if children:
            head.append(
                f"-- D1 keeps foreign keys on: DROP TABLE {table} deletes or empties the rows "
                f"that point at it in {one_line(', '.join(children))}. Back those tables up "
                "first and put their rows back after."
            )
        head.append("-- On D1 (a file runs as one transaction, foreign keys always on):")
        body = ["PRAGMA defer_foreign_keys = on;", *steps, "PRAGMA defer_foreign_keys = off;"]
        return "\n".join([*head, *body])

    def _live_table(self, table: str) -> Table | None:
        return next((t for t in self.live.tables if t.name.lower() == table.lower()), None)

    def _used_by_keys(self, table: str, column: str) -> bool:
        """Whether a live key, unique, index or check of the table names the column (SQLite
        then refuses DROP COLUMN)."""
        keyed = any(
            c.table == table and (column in c.columns or column in c.definition)
            for c in self.live.constraints
        )
        return keyed or any(
            i.table == table and (column in i.columns or not i.columns) for i in self.live.indexes
        )


def _sqlite_can_add(definition: str) -> bool:
    """Whether SQLite's ALTER TABLE ADD COLUMN takes this column as written: no key, no
    UNIQUE, a constant default (not CURRENT_TIMESTAMP or an expression), NOT NULL only with a
    default, and a foreign key only with a NULL default."""
    upper = definition.upper()
    if re.search(r"\bPRIMARY KEY\b|\bUNIQUE\b", upper):
        return False
    default = re.search(r"\bDEFAULT\s+(\(|CURRENT_\w+)", upper)
    if default:
        return False
    has_default = re.search(r"\bDEFAULT\s+(?!NULL\b)", upper) is not None
    if re.search(r"\bNOT NULL\b", upper) and not has_default:
        return False
    return not ("REFERENCES" in upper and has_default)
