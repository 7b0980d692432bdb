"""Product packs: one product's schema described once, in `queries/<pack>/pack.toml`, so that the
layers above it need not name the product's tables: its relations (child table.column -> parent,
and what a delete of the parent does), its balance model, and what each table shows, holds
secret, or counts as money. Orphan checks and the foreign-key health view derive from the
relations; nothing is kept by hand in a second list.

A manifest is under the vetted lock like the SQL beside it, and every name in it is checked to be
a plain SQL identifier when it is read: generated SQL and DDL take identifiers only from here,
never from what a person typed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from adminui.errors import QueryFileError
from adminui.queries import DEFAULT_PACK, default_query_dir

MANIFEST = "pack.toml"
OnDelete = Literal["cascade", "set null"]
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Relation:
    """`table.column` points at `parent` (its id); deleting the parent row `on_delete`s it."""

    table: str
    column: str
    parent: str
    on_delete: OnDelete

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class Table:
    """What the layers above know of one table: the columns that identify a row at a glance,
    those adminui never reads, those summed as money, and whether its rows record payments."""

    name: str
    shows: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    records_money: bool = False


@dataclass(frozen=True)
class Balance:
    """How a user's credits are kept: named buckets (columns) in one row per user of `table`;
    `created_at_signup` when every user has that row from the start (a user without one is an
    orphan check of its own: no credits can be granted or spent)."""

    model: str
    table: str
    user_column: str
    buckets: dict[str, str]
    created_at_signup: bool = False


@dataclass(frozen=True)
class Pack:
    """One product's manifest, read and checked."""

    name: str
    folder: str
    title: str
    dialects: tuple[str, ...]
    ids: str
    jobs: tuple[str, ...]
    recognise: tuple[str, ...]
    balance: Balance
    relations: tuple[Relation, ...]  # in cleaning order: a child before its parent
    tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        """What the manifest says of a table (nothing, for one it doesn't describe)."""
        return self.tables.get(name, Table(name))

    @property
    def users(self) -> str:
        """The table the balance rows belong to (the parent of the balance's user column)."""
        return next(
            r.parent
            for r in self.relations
            if (r.table, r.column) == (self.balance.table, self.balance.user_column)
        )


def pack_folders(directory: Path | None = None) -> tuple[str, ...]:
    """Every pack's folder below queries/ (one with a manifest), sorted."""
    directory = directory or default_query_dir()
    return tuple(sorted(p.parent.name for p in directory.glob(f"*/{MANIFEST}")))


@cache
def load_pack(folder: str = DEFAULT_PACK, directory: Path | None = None) -> Pack:
    """The manifest of the pack in `queries/<folder>/` (default: Idea Expansion)."""
    path = (directory or default_query_dir()) / folder / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise QueryFileError(f"{path}: can't be read as a pack manifest ({error})") from None
    return _parse(data, folder, path)


def _parse(data: dict[str, Any], folder: str, path: Path) -> Pack:
    def names(value: Any, key: str) -> tuple[str, ...]:
        items = tuple(value) if isinstance(value, list) else ()
        if not isinstance(value, list) or not all(
            isinstance(i, str) and _IDENTIFIER.match(i) for i in items
        ):
            raise QueryFileError(f"{path}: {key} must be a list of plain SQL names")
        return items

    def name(value: Any, key: str) -> str:
        return names([value], key)[0]

    relations = []
    for number, entry in enumerate(data.get("relations", []), start=1):
        table, _, column = str(entry.get("child", "")).partition(".")
        on_delete = entry.get("on_delete")
        if on_delete not in ("cascade", "set null"):
            raise QueryFileError(f"{path}: relation {number}: on_delete is cascade or set null")
        relations.append(
            Relation(
                name(table, f"relation {number} child"),
                name(column, f"relation {number} child column"),
                name(entry.get("parent"), f"relation {number} parent"),
                on_delete,
            )
        )
    balance = data.get("balance", {})
    buckets = balance.get("buckets", {})
    tables = {
        name(key, "a [tables.*] name"): Table(
            key,
            names(spec.get("shows", []), f"tables.{key}.shows"),
            names(spec.get("secret", []), f"tables.{key}.secret"),
            names(spec.get("money", []), f"tables.{key}.money"),
            bool(spec.get("records_money", False)),
        )
        for key, spec in data.get("tables", {}).items()
    }
    return Pack(
        name=str(data.get("name", folder)),
        folder=folder,
        title=str(data.get("title", folder)),
        dialects=tuple(str(d) for d in data.get("dialects", ())),
        ids=str(data.get("ids", "uuid")),
        jobs=names(data.get("jobs", []), "jobs"),
        recognise=names(data.get("recognise", {}).get("tables", []), "recognise.tables"),
        balance=Balance(
            str(balance.get("model", "")),
            name(balance.get("table"), "balance.table"),
            name(balance.get("user_column"), "balance.user_column"),
            {
                name(k, "balance bucket"): name(v, "balance bucket column")
                for k, v in buckets.items()
            },
            bool(balance.get("created_at_signup", False)),
        ),
        relations=tuple(relations),
        tables=tables,
    )
