"""Schema drift: one database's live catalog against its pack's expected catalog, as findings of
one kind each (seeds 003, 004 and 000: a missing foreign key that piled up orphans, credit
columns left on `users`, a table in the wrong database, migrations that no longer match the
deployed schema).

Every difference is one finding: its kind, the object, what the reference expects, what the
database has, and the DDL that would fix it. A missing table's columns, keys, indexes, triggers
and policies fold into its one finding (its fix creates them all); an extra table's likewise.
Objects are matched by what they do, not by name (an index by its table and definition, a
policy by its table, command, roles and expressions, a foreign key by its columns and parent),
except triggers and functions, whose name is what the product calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from adminui.schema.catalog import Catalog, Constraint, Index, Policy, normal
from adminui.schema.fixes import Fixes, column_text, key_text, on_delete

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
)
MIGRATION_KINDS = ("unapplied_migration", "unknown_migration", "migration_gap")
KINDS = SCHEMA_KINDS + MIGRATION_KINDS
# A function call's schema (Supabase keeps uuid-ossp in `extensions`: a default reads
# extensions.uuid_generate_v4() there and uuid_generate_v4() where the extension is on the path).
_QUALIFIED_CALL = re.compile(r"\b[a-z_][a-z0-9_]*\.(?=[a-z_][a-z0-9_]*\()")


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
    want = {t.name for t in expected.tables}
    have = {t.name for t in live.tables} - set(unowned)
    both = want & have
    found: list[Finding] = []
    for table in expected.tables:
        if table.name not in have:
            found.append(
                Finding(
                    "missing_table",
                    table.name,
                    f"table of {len(table.columns)} columns",
                    "missing",
                    fixes.missing_table(table.name),
                )
            )
    for table in live.tables:
        if table.name not in want and table.name in have:
            held = (elsewhere or {}).get(table.name, "")
            found.append(
                Finding(
                    "extra_table",
                    table.name,
                    f"no such table{f' (it belongs in {held})' if held else ''}",
                    f"table of {len(table.columns)} columns",
                    fixes.extra_table(table.name, held),
                )
            )
    found += _columns(expected, live, fixes, both)
    found += _keys(expected, live, fixes, both)
    found += _indexes(expected, live, fixes, both)
    found += _triggers(expected, live, fixes, both)
    found += _security(expected, live, fixes, both)
    for function in expected.functions:
        if function not in live.functions:
            signature = f"{function.name}({function.arguments})"
            found.append(
                Finding(
                    "missing_function",
                    signature,
                    signature,
                    "missing",
                    fixes.missing_function(function),
                )
            )
    return found


def _columns(expected: Catalog, live: Catalog, fixes: Fixes, both: set[str]) -> list[Finding]:
    found = []
    for table in (t for t in expected.tables if t.name in both):
        there = live.table(table.name)
        assert there is not None
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            have = there.column(column.name)
            if have is None:
                fix = fixes.missing_column(table.name, column)
                found.append(Finding("missing_column", name, column_text(column), "missing", fix))
                continue
            pairs = {
                "type": (normal(column.data_type), normal(have.data_type)),
                "nullable": (column.nullable, have.nullable),
                "default": (_default(column.default), _default(have.default)),
            }
            words = {
                "type": (column.data_type, have.data_type),
                "nullable": tuple(
                    "NULL allowed" if c.nullable else "NOT NULL" for c in (column, have)
                ),
                "default": (column.default or "none", have.default or "none"),
            }
            for kind, (want, got) in pairs.items():
                if want != got:
                    fix = fixes.alter_column(kind, table.name, column)
                    found.append(Finding(kind, name, *words[kind], fix))
        for column in there.columns:
            if table.column(column.name) is None:
                found.append(
                    Finding(
                        "extra_column",
                        f"{table.name}.{column.name}",
                        "no such column",
                        column_text(column),
                        fixes.extra_column(table.name, column.name),
                    )
                )
    return found


def _default(text: str | None) -> str:
    return normal(_QUALIFIED_CALL.sub("", text)) if text is not None else ""


def _primary(catalog: Catalog, table: str) -> tuple[str, ...]:
    return next((c.columns for c in catalog.constraints if c.table == table and c.kind == "p"), ())


def _uniques(catalog: Catalog, table: str) -> set[tuple[str, ...]]:
    """The column lists some key, unique constraint or unique plain index holds unique."""
    keyed = {c.columns for c in catalog.constraints if c.table == table and c.kind in "pu"}
    return keyed | {
        i.columns for i in catalog.indexes if i.table == table and i.unique and i.columns
    }


def _parent_key(catalog: Catalog, key: Constraint) -> tuple[str, ...]:
    """The parent columns a foreign key refers to (SQLite's omitted list: the parent's key)."""
    return key.parent_columns or _primary(catalog, key.parent)


def _action(key: Constraint) -> str:
    # RESTRICT and NO ACTION both refuse the delete (they differ only for deferred checks).
    return "no action" if key.on_delete in ("", "restrict") else key.on_delete


def _keys(expected: Catalog, live: Catalog, fixes: Fixes, both: set[str]) -> list[Finding]:
    found = []
    for key in (c for c in expected.constraints if c.table in both):
        columns = ", ".join(key.columns)
        if key.kind == "p" and _primary(live, key.table) != key.columns:
            have = _primary(live, key.table)
            actual = f"PRIMARY KEY ({', '.join(have)})" if have else "missing"
            found.append(
                Finding(
                    "missing_unique",
                    f"{key.table} ({columns})",
                    key_text(key),
                    actual,
                    fixes.add_constraint(key),
                )
            )
        elif key.kind == "u" and key.columns not in _uniques(live, key.table):
            found.append(
                Finding(
                    "missing_unique",
                    f"{key.table} ({columns})",
                    key_text(key),
                    "missing",
                    fixes.add_constraint(key),
                )
            )
        elif key.kind == "c" and not any(
            c.table == key.table
            and c.kind == "c"
            and normal(c.definition) == normal(key.definition)
            for c in live.constraints
        ):
            found.append(
                Finding(
                    "missing_check",
                    f"{key.table}: {key.name or 'check'}",
                    key_text(key),
                    "missing",
                    fixes.add_constraint(key),
                )
            )
        elif key.kind == "f":
            found += _foreign_key(key, expected, live, fixes)
    for index in expected.indexes:
        plain_unique = index.table in both and index.unique and index.columns
        if plain_unique and index.columns not in _uniques(live, index.table):
            found.append(
                Finding(
                    "missing_unique",
                    f"{index.table} ({', '.join(index.columns)})",
                    f"UNIQUE INDEX {index.name}",
                    "missing",
                    fixes.missing_index(index, None),
                )
            )
    return found


def _foreign_key(key: Constraint, expected: Catalog, live: Catalog, fixes: Fixes) -> list[Finding]:
    parent = _parent_key(expected, key)
    name = f"{key.table}.{', '.join(key.columns)} → {key.parent}.{', '.join(parent)}"
    same = [
        c
        for c in live.constraints
        if c.kind == "f"
        and c.table == key.table
        and c.columns == key.columns
        and c.parent == key.parent
        and _parent_key(live, c) == parent
    ]
    if not same:
        elsewhere = [
            c
            for c in live.constraints
            if c.kind == "f" and c.table == key.table and c.columns == key.columns
        ]
        actual = f"missing (a key to {elsewhere[0].parent} instead)" if elsewhere else "missing"
        return [
            Finding("missing_fk", name, key_text(key, parent), actual, fixes.add_constraint(key))
        ]
    if any(_action(c) == _action(key) and c.validated and c.enabled for c in same):
        return []
    live_key = next((c for c in same if _action(c) == _action(key)), same[0])
    if _action(live_key) != _action(key):
        fix = fixes.replace_key(key, live_key)
        return [Finding("fk_action", name, on_delete(key), on_delete(live_key), fix)]
    if not live_key.validated:
        fix = fixes.validate_key(live_key)
        return [Finding("fk_not_valid", name, "validated", "NOT VALID", fix)]
    fix = fixes.enable_key(key, live_key)
    return [Finding("fk_disabled", name, "enabled", "disabled (its triggers are off)", fix)]


def index_text(definition: str) -> str:
    """An index as a finding shows it, without its name: PostgreSQL's definition after USING
    ('btree (user_id, status)'), or SQLite's CREATE INDEX text after its table."""
    return re.sub(
        r"(?is)^CREATE\s+(UNIQUE\s+)?INDEX\s+(IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+\S+?\s*(?=\()",
        "",
        definition,
    )


def index_shape(index: Index) -> str:
    """What an index is, for comparing: its text, normalised, UNIQUE where it is unique."""
    return ("unique " if index.unique else "") + normal(index_text(index.definition))


def _indexes(expected: Catalog, live: Catalog, fixes: Fixes, both: set[str]) -> list[Finding]:
    found = []
    shapes = {(i.table, index_shape(i)): i for i in live.indexes}
    for index in expected.indexes:
        if index.table not in both or (index.unique and index.columns):
            continue  # unique plain indexes are compared as uniques
        have = shapes.get((index.table, index_shape(index)))
        if have is None or not have.valid:
            actual = "missing" if have is None else f"invalid ({have.name}: never used)"
            found.append(
                Finding(
                    "missing_index",
                    f"{index.table}: {index.name}",
                    index_text(index.definition),
                    actual,
                    fixes.missing_index(index, have),
                )
            )
    return found


def _triggers(expected: Catalog, live: Catalog, fixes: Fixes, both: set[str]) -> list[Finding]:
    found = []
    present = {(t.table, t.name): t for t in live.triggers}
    for trigger in expected.triggers:
        if trigger.table not in both:
            continue
        have = present.get((trigger.table, trigger.name))
        if have is None or not have.enabled:
            found.append(
                Finding(
                    "missing_trigger",
                    f"{trigger.table}: {trigger.name}",
                    "fires" if have is not None else "present",
                    "missing" if have is None else "disabled",
                    fixes.missing_trigger(trigger, have),
                )
            )
    return found


def _policy_shape(p: Policy) -> tuple[object, ...]:
    return (p.table, p.command, p.permissive, p.roles, normal(p.using), normal(p.check))


def _security(expected: Catalog, live: Catalog, fixes: Fixes, both: set[str]) -> list[Finding]:
    found = []
    for table in expected.tables:
        there = live.table(table.name)
        if (
            table.name in both
            and there is not None
            and table.row_security
            and not there.row_security
        ):
            found.append(
                Finding(
                    "rls_disabled",
                    table.name,
                    "row-level security on",
                    "off",
                    fixes.enable_row_security(table.name),
                )
            )
    shapes = {_policy_shape(p) for p in live.policies}
    for policy in expected.policies:
        if policy.table in both and _policy_shape(policy) not in shapes:
            rule = " ".join(
                part
                for part in (
                    f"FOR {policy.command}",
                    f"TO {policy.roles}" if policy.roles != "public" else "",
                    f"USING {policy.using}" if policy.using else "",
                    f"WITH CHECK {policy.check}" if policy.check else "",
                )
                if part
            )
            found.append(
                Finding(
                    "missing_policy",
                    f"{policy.table}: {policy.name}",
                    rule,
                    "missing",
                    fixes.missing_policy(policy),
                )
            )
    return found


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Findings by database, then object, then kind (a table's missing row first)."""
    return sorted(findings, key=lambda f: (f.database, f.object, KINDS.index(f.kind)))
