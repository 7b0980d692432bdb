"""Schema drift: one database's live catalog against its pack's expected catalog, as findings of
one kind each (seeds 003, 004 and 000: a missing foreign key that piled up orphans, credit
columns left on `users`, a table in the wrong database, migrations that no longer match the
deployed schema).

Every difference is one finding: its kind, the object, what the reference expects, what the
database has, and the DDL that would fix it. A missing table's columns, keys, indexes, triggers
and policies fold into its one finding (its fix creates them all); an extra table's likewise; a
missing column's keys and checks fold into the column's. Objects are matched by what they do,
not by name: an index by its table and definition, a policy by its table, command, roles and
expressions, a key by its columns and parent; triggers and functions by name, and then by what
they say. An object of the expected name that says something else "differs", and its fix
replaces it (adding it again would fail: the name is taken). On SQLite names are compared as
SQLite compares them: without their quotes, in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from adminui.schema.catalog import (
    Catalog,
    Column,
    Constraint,
    Function,
    Index,
    Policy,
    Table,
    Trigger,
    normal,
)
from adminui.schema.fixes import Fixes, column_text, key_text, on_delete, policy_text

# Every kind, in the order a table's findings are listed.
SCHEMA_KINDS = (
    "missing_table",
    "extra_table",
    "missing_column",
    "extra_column",
    "type",
    "nullable",
    "default",
    "missing_unique",
    "missing_fk",
    "fk_not_valid",
    "fk_disabled",
    "fk_action",
    "missing_check",
    "missing_index",
    "missing_trigger",
    "missing_function",
    "rls_disabled",
    "missing_policy",
    "extra_policy",
)
MIGRATION_KINDS = ("unapplied_migration", "unknown_migration", "migration_gap")
KINDS = SCHEMA_KINDS + MIGRATION_KINDS
# A function call's schema (Supabase keeps uuid-ossp in `extensions`: a default reads
# extensions.uuid_generate_v4() there and uuid_generate_v4() where the extension is on the path).
_QUALIFIED_CALL = re.compile(r"\b[a-z_][a-z0-9_]*\.(?=[a-z_][a-z0-9_]*\()")
# The table and function a PostgreSQL trigger names, schema-qualified as pg_get_triggerdef
# writes them when the schema is not on the path.
_QUALIFIED_TRIGGER = re.compile(r"\b(ON|FUNCTION|PROCEDURE) [a-z_][a-z0-9_]*\.", re.IGNORECASE)
# What an index is called and on which table, before its columns.
_INDEX_HEAD = re.compile(
    r"(?is)^CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?"
    r"(\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|\S+)\s+ON\s+"
    r"(\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|[^\s(]+)\s*(?=\()"
)
_NOT_VALID = re.compile(r"\s+NOT VALID$")


@dataclass(frozen=True)
class Finding:
    kind: str
    object: str
    expected: str
    actual: str
    fix: str
    database: str = ""  # which of the pack's databases, when it has two ('fltr_auth')

    def plain(self) -> dict[str, str]:
        """The finding as --format json gives it."""
        found = {
            "kind": self.kind,
            "object": self.object,
            "expected": self.expected,
            "actual": self.actual,
            "fix": self.fix,
        }
        return found | ({"database": self.database} if self.database else {})


def index_text(definition: str) -> str:
    """An index as a finding shows it, without its name: PostgreSQL's definition after USING
    ('btree (user_id, status)'), or SQLite's CREATE INDEX text after its table."""
    return _INDEX_HEAD.sub("", definition)


def compare(
    expected: Catalog,
    live: Catalog,
    fixes: Fixes,
    *,
    unowned: Iterable[str] = (),
    elsewhere: dict[str, str] | None = None,
) -> list[Finding]:
    """Every difference between the two catalogs. `unowned` names live tables that are no
    concern of the product's schema (a migration tool's own table); `elsewhere` says, of a
    table another database of the pack holds, which one (seed 004's users in fltr)."""
    return _Comparison(expected, live, fixes, set(unowned), elsewhere or {}).findings()


class _Comparison:
    """One comparison: the two catalogs indexed by the names the database would resolve."""

    def __init__(
        self,
        expected: Catalog,
        live: Catalog,
        fixes: Fixes,
        unowned: set[str],
        elsewhere: dict[str, str],
    ) -> None:
        self.expected, self.live, self.fixes = expected, live, fixes
        self.sqlite = fixes.sqlite
        self.elsewhere = elsewhere
        skip = {self.key(t) for t in unowned}
        self.live_tables = {
            self.key(t.name): t for t in live.tables if self.key(t.name) not in skip
        }
        # Expected table name -> the live table of that name, for the tables both have.
        self.both = {
            t.name: self.live_tables[self.key(t.name)]
            for t in expected.tables
            if self.key(t.name) in self.live_tables
        }
        self.folded: set[int] = set()  # expected constraints a missing column's fix makes

    def key(self, name: str) -> str:
        """A name as the database matches it: SQLite ignores case."""
        return name.lower() if self.sqlite else name

    def norm(self, sql: str | None) -> str:
        return normal(sql, self.sqlite)

    def findings(self) -> list[Finding]:
        found = self._tables()
        for table, there in self.both.items():
            found += self._columns(self.expected_table(table), there)
            found += self._keys(table, there)
            found += self._indexes(table, there)
            found += self._triggers(table, there)
            found += self._security(self.expected_table(table), there)
        found += self._functions()
        return found

    def expected_table(self, name: str) -> Table:
        table = self.expected.table(name)
        assert table is not None
        return table

    def mine(self, objects: Iterable, table: Table | str) -> list:
        """Of a live catalog's objects, those of a table (by the name the database matches)."""
        name = self.key(table if isinstance(table, str) else table.name)
        return [o for o in objects if self.key(o.table) == name]

    def _tables(self) -> list[Finding]:
        found = []
        for table in self.expected.tables:
            if table.name not in self.both:
                found.append(
                    Finding(
                        "missing_table",
                        table.name,
                        f"table of {len(table.columns)} columns",
                        "missing",
                        self.fixes.missing_table(table.name),
                    )
                )
        wanted = {self.key(t.name) for t in self.expected.tables}
        for key, table in self.live_tables.items():
            if key not in wanted:
                held = self.elsewhere.get(table.name, "")
                found.append(
                    Finding(
                        "extra_table",
                        table.name,
                        f"no such table{f' (it belongs in {held})' if held else ''}",
                        f"table of {len(table.columns)} columns",
                        self.fixes.extra_table(table.name, held),
                    )
                )
        return found

    def _columns(self, table: Table, there: Table) -> list[Finding]:
        found = []
        have = {self.key(c.name): c for c in there.columns}
        primary = {self.key(c) for c in _primary(self.expected, table.name)}
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            live = have.get(self.key(column.name))
            if live is None:
                keys = self._column_keys(table.name, column.name)
                self.folded |= {id(k) for k in keys}
                fix = self.fixes.missing_column(table.name, column, keys)
                found.append(Finding("missing_column", name, column_text(column), "missing", fix))
                continue
            pairs = {
                "type": (self.norm(column.data_type), self.norm(live.data_type)),
                # SQLite lets a key that is not INTEGER hold NULL unless it says NOT NULL: a key
                # written NOT NULL (as Drizzle writes it) is no drift.
                "nullable": (
                    column.nullable and not (self.sqlite and self.key(column.name) in primary),
                    live.nullable and not (self.sqlite and self.key(column.name) in primary),
                ),
                "default": (self._default(column.default), self._default(live.default)),
            }
            words = {
                "type": (column.data_type, live.data_type),
                "nullable": tuple(_null_text(c) for c in (column, live)),
                "default": (column.default or "none", live.default or "none"),
            }
            for kind, (want, got) in pairs.items():
                if want != got:
                    fix = self.fixes.alter_column(kind, table.name, column)
                    found.append(Finding(kind, name, *words[kind], fix))
        wanted = {self.key(c.name) for c in table.columns}
        for column in there.columns:
            if self.key(column.name) not in wanted:
                found.append(
                    Finding(
                        "extra_column",
                        f"{table.name}.{column.name}",
                        "no such column",
                        column_text(column),
                        self.fixes.extra_column(table.name, column.name),
                    )
                )
        return found

    def _column_keys(self, table: str, column: str) -> list[Constraint]:
        """The expected keys and checks of a table that involve a column (a SQLite check, whose
        columns the catalog doesn't list, by the column's name in its expression)."""
        word = re.compile(rf"(?<![\w.]){re.escape(column)}(?!\w)", re.IGNORECASE)
        return [
            c
            for c in self.expected.constraints
            if c.table == table
            and c.kind in "ucf"
            and (column in c.columns or (not c.columns and word.search(c.definition)))
        ]

    def _default(self, text: str | None) -> str:
        return self.norm(_QUALIFIED_CALL.sub("", text)) if text is not None else ""

    def _keys(self, table: str, there: Table) -> list[Finding]:
        found = []
        mine = [c for c in self.expected.constraints if c.table == table]
        theirs = self.mine(self.live.constraints, there)
        pk = _primary(self.expected, table)
        live_pk = next((c for c in theirs if c.kind == "p"), None)
        if pk and (live_pk is None or self._set(live_pk.columns) != self._set(pk)):
            key = next(c for c in mine if c.kind == "p")
            found.append(
                Finding(
                    "missing_unique",
                    f"{table} ({', '.join(pk)})",
                    key_text(key),
                    key_text(live_pk) if live_pk else "missing",
                    self.fixes.add_constraint(key, live_pk),
                )
            )
        uniques = self._uniques(there)
        for key in mine:
            if id(key) in self.folded:
                continue
            if key.kind == "u" and self._set(key.columns) not in uniques:
                taken = self._named(theirs, key.name)
                index = self._index_named(there, key.name)  # made by hand, or left invalid
                actual = f"differs: {key_text(taken)}" if taken else _index_actual(index)
                found.append(
                    Finding(
                        "missing_unique",
                        f"{table} ({', '.join(key.columns)})",
                        key_text(key),
                        actual,
                        self.fixes.add_constraint(key, taken or index),
                    )
                )
            elif key.kind == "c":
                found += self._check(key, theirs)
            elif key.kind == "f":
                found += self._foreign_key(key, theirs)
        for index in self.expected.indexes:
            plain_unique = index.table == table and index.unique and index.columns
            if plain_unique and self._set(index.columns) not in uniques:
                taken = self._index_named(there, index.name)
                found.append(
                    Finding(
                        "missing_unique",
                        f"{table} ({', '.join(index.columns)})",
                        f"UNIQUE INDEX {index.name}",
                        _index_actual(taken),
                        self.fixes.missing_index(index, taken),
                    )
                )
        return found

    def _index_named(self, there: Table, name: str | None) -> Index | None:
        if not name:
            return None
        return next(
            (i for i in self.mine(self.live.indexes, there) if self.key(i.name) == self.key(name)),
            None,
        )

    def _set(self, columns: Iterable[str]) -> frozenset[str]:
        """Columns a key or unique holds unique: their order doesn't change what is unique."""
        return frozenset(self.key(c) for c in columns)

    def _uniques(self, there: Table) -> set[frozenset[str]]:
        """The column sets some key, unique constraint or valid unique plain index of the live
        table holds unique."""
        keyed = {
            self._set(c.columns) for c in self.mine(self.live.constraints, there) if c.kind in "pu"
        }
        indexed = {
            self._set(i.columns)
            for i in self.mine(self.live.indexes, there)
            if i.unique and i.columns and i.valid
        }
        return keyed | indexed

    def _named(self, theirs: list[Constraint], name: str | None) -> Constraint | None:
        """The live constraint of the table that has the expected one's name (PostgreSQL's
        constraint names are unique per table; SQLite's are mostly absent)."""
        if not name:
            return None
        return next((c for c in theirs if c.name and self.key(c.name) == self.key(name)), None)

    def _check(self, key: Constraint, theirs: list[Constraint]) -> list[Finding]:
        want = self.norm(_NOT_VALID.sub("", key.definition))
        same = [
            c
            for c in theirs
            if c.kind == "c" and self.norm(_NOT_VALID.sub("", c.definition)) == want
        ]
        name = f"{key.table}: {key.name or 'check'}"
        if any(c.validated for c in same):
            return []
        if same:  # added NOT VALID: new rows are checked, the old ones never were
            fix = self.fixes.validate_key(same[0])
            return [Finding("missing_check", name, key_text(key), "NOT VALID", fix)]
        taken = self._named(theirs, key.name)
        actual = f"differs: {key_text(taken)}" if taken else "missing"
        return [
            Finding(
                "missing_check", name, key_text(key), actual, self.fixes.add_constraint(key, taken)
            )
        ]

    def _parent_key(self, catalog: Catalog, key: Constraint) -> frozenset[str]:
        """The parent columns a foreign key refers to (SQLite's omitted list: the parent's key)."""
        return self._set(key.parent_columns or _primary(catalog, key.parent))

    def _foreign_key(self, key: Constraint, theirs: list[Constraint]) -> list[Finding]:
        parent = (
            _primary(self.expected, key.parent) if not key.parent_columns else key.parent_columns
        )
        name = f"{key.table}.{', '.join(key.columns)} → {key.parent}.{', '.join(parent)}"
        want = self._parent_key(self.expected, key)
        same = [
            c
            for c in theirs
            if c.kind == "f"
            and tuple(map(self.key, c.columns)) == tuple(map(self.key, key.columns))
            and self.key(c.parent) == self.key(key.parent)
            and self._parent_key(self.live, c) == want
        ]
        if not same:
            other = next(
                (
                    c
                    for c in theirs
                    if c.kind == "f"
                    and tuple(map(self.key, c.columns)) == tuple(map(self.key, key.columns))
                ),
                None,
            )
            taken = self._named(theirs, key.name) or other
            actual = f"missing (a key to {other.parent} instead)" if other else "missing"
            fix = self.fixes.add_constraint(key, taken if taken and taken.kind == "f" else None)
            return [Finding("missing_fk", name, key_text(key, parent), actual, fix)]
        if any(self._same_rule(c, key) and c.validated and c.enabled for c in same):
            return []
        live = next((c for c in same if self._same_rule(c, key)), same[0])
        if not self._same_rule(live, key):
            # ON DELETE, or (PostgreSQL) ON UPDATE or DEFERRABLE, differs.
            differs = on_delete(key) != on_delete(live) or not key.definition
            want_text = on_delete(key) if differs else key_text(key)
            have_text = on_delete(live) if differs else key_text(live)
            fix = self.fixes.replace_key(key, live)
            return [Finding("fk_action", name, want_text, have_text, fix)]
        if not live.validated:
            return [
                Finding(
                    "fk_not_valid", name, "validated", "NOT VALID", self.fixes.validate_key(live)
                )
            ]
        fix = self.fixes.enable_key(key, live)
        return [Finding("fk_disabled", name, "enabled", "disabled (its triggers are off)", fix)]

    def _same_rule(self, live: Constraint, key: Constraint) -> bool:
        """Whether a live foreign key does what the expected one does on delete (RESTRICT and NO
        ACTION both refuse it), and, on PostgreSQL, on update and when (DEFERRABLE)."""
        if _action(live) != _action(key):
            return False
        if self.sqlite or not key.definition:
            return True
        rule = re.compile(r".*?\)\s*REFERENCES\s+\S+\s*\([^)]*\)")  # what follows the parent

        def tail(c: Constraint) -> str:
            text = rule.sub("", _NOT_VALID.sub("", c.definition))
            return self.norm(
                text.replace("ON DELETE RESTRICT", "").replace("ON DELETE NO ACTION", "")
            )

        return tail(live) == tail(key)

    def _indexes(self, table: str, there: Table) -> list[Finding]:
        found = []
        theirs = self.mine(self.live.indexes, there)
        shapes = {self._shape(i): i for i in theirs if i.valid}
        for index in self.expected.indexes:
            if index.table != table or (index.unique and index.columns):
                continue  # unique plain indexes are compared as uniques
            if self._shape(index) in shapes:
                continue
            taken = self._index_named(there, index.name)
            found.append(
                Finding(
                    "missing_index",
                    f"{table}: {index.name}",
                    index_text(index.definition),
                    _index_actual(taken),
                    self.fixes.missing_index(index, taken),
                )
            )
        return found

    def _shape(self, index: Index) -> str:
        """What an index is, for comparing: its text without its name, UNIQUE where it is."""
        return ("unique " if index.unique else "") + self.norm(index_text(index.definition))

    def _triggers(self, table: str, there: Table) -> list[Finding]:
        found = []
        theirs = {self.key(t.name): t for t in self.mine(self.live.triggers, there)}
        for trigger in (t for t in self.expected.triggers if t.table == table):
            have = theirs.get(self.key(trigger.name))
            if have is not None and have.enabled and self._says(have) == self._says(trigger):
                continue
            actual = (
                "missing"
                if have is None
                else "disabled"
                if self._says(have) == self._says(trigger)
                else f"differs: {have.definition}"
            )
            found.append(
                Finding(
                    "missing_trigger",
                    f"{table}: {trigger.name}",
                    "present and firing",
                    actual,
                    self.fixes.missing_trigger(trigger, have, replace=actual.startswith("differs")),
                )
            )
        return found

    def _says(self, trigger: Trigger) -> str:
        return self.norm(_QUALIFIED_TRIGGER.sub(r"\1 ", trigger.definition))

    def _security(self, table: Table, there: Table) -> list[Finding]:
        found = []
        if table.row_security and not there.row_security:
            fix = self.fixes.enable_row_security(table.name)
            found.append(Finding("rls_disabled", table.name, "row-level security on", "off", fix))
        theirs = self.mine(self.live.policies, there)
        live_shapes = {self._policy(p): p for p in theirs}
        expected = [p for p in self.expected.policies if p.table == table.name]
        wanted = {self._policy(p) for p in expected}
        replaced: set[str] = set()
        for policy in expected:
            if self._policy(policy) in live_shapes:
                continue
            taken = next((p for p in theirs if p.name == policy.name), None)
            if taken is not None:
                replaced.add(taken.name)
            found.append(
                Finding(
                    "missing_policy",
                    f"{table.name}: {policy.name}",
                    policy_text(policy),
                    f"differs: {policy_text(taken)}" if taken else "missing",
                    self.fixes.missing_policy(policy, taken),
                )
            )
        for policy in theirs:
            if self._policy(policy) not in wanted and policy.name not in replaced:
                # A permissive policy the product doesn't have widens what a role may see.
                found.append(
                    Finding(
                        "extra_policy",
                        f"{table.name}: {policy.name}",
                        "no such policy",
                        policy_text(policy),
                        self.fixes.extra_policy(policy),
                    )
                )
        return found

    def _policy(self, p: Policy) -> tuple[object, ...]:
        return (p.command, p.permissive, p.roles, self.norm(p.using), self.norm(p.check))

    def _functions(self) -> list[Finding]:
        found = []
        theirs = {(f.name, f.arguments): f for f in self.live.functions}
        for function in self.expected.functions:
            have = theirs.get((function.name, function.arguments))
            if have is not None and self._body(have) == self._body(function):
                continue
            signature = f"{function.name}({function.arguments})"
            actual = "missing" if have is None else "differs: another body or result"
            found.append(
                Finding(
                    "missing_function",
                    signature,
                    f"{signature} returns {function.result}",
                    actual,
                    self.fixes.missing_function(function, have),
                )
            )
        return found

    def _body(self, function: Function) -> tuple[str, str]:
        return (function.result, self.norm(function.body))


def _primary(catalog: Catalog, table: str) -> tuple[str, ...]:
    return next((c.columns for c in catalog.constraints if c.table == table and c.kind == "p"), ())


def _action(key: Constraint) -> str:
    # RESTRICT and NO ACTION both refuse the delete (they differ only for deferred checks).
    return "no action" if key.on_delete in ("", "restrict") else key.on_delete


def _null_text(column: Column) -> str:
    return "NULL allowed" if column.nullable else "NOT NULL"


def _index_actual(taken: Index | None) -> str:
    if taken is None:
        return "missing"
    if not taken.valid:
        return f"invalid ({taken.name}: never used, enforces nothing)"
    return f"differs: {index_text(taken.definition)}"


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Findings by database, then object (its numbers as numbers: version 9 before version
    10), then kind (a table's missing row first)."""

    def natural(text: str) -> tuple[tuple[str, int], ...]:
        return tuple(
            (part, 0) if n % 2 == 0 else ("", int(part))
            for n, part in enumerate(re.split(r"(\d+)", text))
        )

    return sorted(findings, key=lambda f: (f.database, natural(f.object), KINDS.index(f.kind)))
