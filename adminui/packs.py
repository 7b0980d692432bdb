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

from adminui.errors import InputError, QueryFileError, SetupError
from adminui.queries import DEFAULT_PACK, default_query_dir

MANIFEST = "pack.toml"
OnDelete = Literal["cascade", "set null", "no action"]
ON_DELETE = ("cascade", "set null", "no action")
MAIN, DATA = "main", "data"  # the profile's `url`, and its `data_url` (a pack's second database)
# camelCase too (OmniChat's `userId`): SQLite and a quoted-nothing PostgreSQL name alike.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Relation:
    """`table.column` points at `parent` (its key); deleting the parent row `on_delete`s it
    (no action: the database refuses the delete while the child points at it; an orphan's
    column is emptied, as for set null)."""

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
    those adminui never reads, those summed as money, and, if its rows record payments, the
    words that name them ('payment receipts')."""

    name: str
    shows: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    money: tuple[str, ...] = ()
    records_money: str = ""


@dataclass(frozen=True)
class Balance:
    """How a user's credits are kept: named buckets (columns) in one row per user of `table`;
    `created_at_signup` when every user has that row from the start (a user without one is an
    orphan check of its own: no credits can be granted or spent). `unit` is what the operator
    grants, as the screens and the CLI say it ("credits", "battery units"); `teams` names the
    table of shared balances a grant may go to instead (fltr's teams; empty: none)."""

    model: str
    table: str
    user_column: str
    buckets: dict[str, str]
    created_at_signup: bool = False
    unit: str = "credits"
    teams: str = ""


@dataclass(frozen=True)
class Read:
    """One statement of a user's detail, bound :user_id (and :limit). Without `list` its one
    row's columns join the detail; with it, its rows are the detail's list of that name, shown
    under `title` (`columns` in the CLI's table, `shown` as (column, header) on the screen, in a
    table whose id is `table`, a row named by its `key` column, else by its place; `of` names
    the field that counts them all)."""

    statement: str
    database: str = MAIN
    list: str = ""
    title: str = ""
    table: str = ""
    key: str = ""
    limit: int | None = None
    of: str = ""
    columns: tuple[str, ...] = ()
    shown: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Panel:
    """A box of facts on the user screen: (label, template) each, the template's {fields} taken
    from the detail; `needs` names a field that must be true, else `missing` is shown instead."""

    title: str
    facts: tuple[tuple[str, str], ...]
    needs: str = ""
    missing: str = ""


@dataclass(frozen=True)
class Lookup:
    """What the user lookup shows: the search box's hint, the list's columns in the CLI and
    (column, header) on the screen, and the detail: its reads, in order, and its panels."""

    search: str = ""
    # "unicode": the search SQL compares folded text (PostgreSQL's lower(), adminui_fold);
    # "ascii": its LIKE ignores the case of ASCII letters only (D1, which runs no function of
    # adminui's), so the text is matched as typed.
    case: str = "unicode"
    columns: tuple[str, ...] = ()
    shown: tuple[tuple[str, str], ...] = ()
    reads: tuple[Read, ...] = ()
    panels: tuple[Panel, ...] = ()

    @property
    def lists(self) -> tuple[Read, ...]:
        return tuple(read for read in self.reads if read.list)


@dataclass(frozen=True)
class HistoryList:
    """One list of a history job, newest first, keyset-paged by (created_at, id): its statement
    takes :after_at, :after_id and :limit, and :<filter> (one of `choices`, or NULL) if named."""

    name: str
    title: str
    statement: str
    columns: tuple[str, ...]
    filter: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """A product's processing history (on-call): a summary statement and lists, all on one of
    its databases."""

    database: str = MAIN
    summary: str = ""
    summary_columns: tuple[str, ...] = ()
    lists: tuple[HistoryList, ...] = ()


@dataclass(frozen=True)
class Report:
    """One read of a job that lists what it finds (a health check, a usage or money summary): a
    statement taking :limit whose rows are shown under `title` (its columns: the product's
    names). What else it binds it declares: :user_id, :model, :day and :since are the filters
    offered, :now the app's clock, :after_at and :after_row make it a list paged newest first
    (adminui.ops.reports). A check's rows carry `found`, how many it finds in all; `chart` is
    [label column, value column] (a bar per label, values summed); `total` a column the
    statement gives every row, the figure of all of them (MRR in all)."""

    name: str
    title: str
    statement: str
    columns: tuple[str, ...]
    job: str = "health"
    chart: tuple[str, ...] = ()
    total: str = ""


@dataclass(frozen=True)
class Migrations:
    """How the product records the migrations it ran: `tool` is drizzle (`table` holds each
    file's SHA-256), wrangler (`table` holds each file's name: D1's d1_migrations) or numbered
    (`table` holds each file's leading number: OmniChat's schema_version); `apply` is the
    command that runs the missing ones. Read by the `applied_migrations` statement."""

    tool: str = ""
    table: str = ""
    apply: str = ""


MIGRATION_TOOLS = ("drizzle", "wrangler", "numbered")


@dataclass(frozen=True, eq=False)  # one object per pack (load_pack caches): hashed by identity
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
    # The tables a grant inserts into and updates: a role that may not is read-only from the start.
    writes: dict[str, str] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=lambda: {MAIN: ""})  # role -> name
    data_tables: tuple[str, ...] = ()  # the tables of the second database, if any
    lookup: Lookup = field(default_factory=Lookup)
    # What a column a statement computes holds (`has_usage_tracking = "boolean"`), where the
    # reference DDL can't say: how SQLite's values are read (adminui.ops.records).
    values: dict[str, str] = field(default_factory=dict)
    processing: History = field(default_factory=History)
    # The product's money checks (its `health_command`: `adminui ledger-health`, `adminui
    # budgets`), in the order they are shown.
    health: tuple[Report, ...] = ()
    health_command: str = ""
    # The reads of its other report jobs (OmniChat's usage and money), in the order shown.
    reports: tuple[Report, ...] = ()
    # Where the product records its applied migrations (none: Idea Expansion's are run by hand).
    migrations: Migrations = field(default_factory=Migrations)

    def reports_of(self, job: str) -> tuple[Report, ...]:
        """The reports of one job: its health checks, or the [[reports]] of that job."""
        return self.health if job == "health" else tuple(r for r in self.reports if r.job == job)

    @property
    def reference_dialect(self) -> str:
        """The dialect its reference DDL and generated SQL are first written in: PostgreSQL's
        when the pack runs there, else its one dialect's (a D1 product's SQLite)."""
        return "postgresql" if "postgresql" in self.dialects else self.dialects[0]

    def database_of(self, table: str) -> str:
        """MAIN or DATA: which of the pack's databases holds the table."""
        return DATA if table in self.data_tables else MAIN

    def crosses(self, relation: Relation) -> bool:
        """Whether the relation points from one database into the other (no constraint and no
        join can check it: the orphan check compares the two sides' keys)."""
        return self.database_of(relation.table) != self.database_of(relation.parent)

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


def packs() -> tuple[Pack, ...]:
    """Every pack, by folder name."""
    return tuple(load_pack(folder) for folder in pack_folders())


def pack_named(name: str) -> Pack:
    """The pack a profile's `product` or `--product` names; an InputError naming the known
    ones otherwise."""
    for pack in packs():
        if pack.name == name:
            return pack
    known = ", ".join(p.name for p in packs())
    raise InputError("product", f"no product is called {name!r}; the products are {known}")


def recognise(tables: set[str], where: str) -> Pack:
    """The one product whose manifest's recognising tables are all among `tables` (the live
    catalog's); a SetupError naming the candidates when none or several are."""
    matching = [p for p in packs() if set(p.recognise) <= tables]
    if len(matching) == 1:
        return matching[0]
    if matching:
        raise SetupError(
            f"{where} has the tables of several products ({', '.join(p.name for p in matching)}); "
            "choose one with --product NAME or the profile's product key."
        )
    known = "; ".join(f"{p.name} has {', '.join(p.recognise)}" for p in packs())
    raise SetupError(
        f"{where} holds no product adminui knows ({known}); check the database (and the "
        "profile's schema), or name the product with --product NAME."
    )


def load_pack(folder: str = DEFAULT_PACK, directory: Path | None = None) -> Pack:
    """The manifest of the pack in `queries/<folder>/` (default: Idea Expansion), read once:
    one object per pack."""
    return _load_pack(folder, directory or default_query_dir())


@cache
def _load_pack(folder: str, directory: Path) -> Pack:
    path = directory / folder / MANIFEST
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
        if on_delete not in ON_DELETE:
            raise QueryFileError(
                f"{path}: relation {number}: on_delete is one of {', '.join(ON_DELETE)}"
            )
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
            str(spec.get("records_money", "")),
        )
        for key, spec in data.get("tables", {}).items()
    }
    databases = data.get("databases", {})
    writes = data.get("writes", {})
    lookup = data.get("lookup", {})
    processing = data.get("processing", {})

    def pairs(value: Any, key: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p)
            for p in value
        ):
            raise QueryFileError(f"{path}: {key} must be a list of [name, text] pairs")
        return tuple((a, b) for a, b in value)

    def read(spec: dict[str, Any], number: int) -> Read:
        where = f"lookup.reads {number}"
        return Read(
            name(spec.get("statement"), f"{where} statement"),
            DATA if spec.get("database") == DATA else MAIN,
            str(spec.get("list", "")),
            str(spec.get("title", "")),
            str(spec.get("table", spec.get("list", ""))),
            str(spec.get("key", "")),
            int(spec["limit"]) if "limit" in spec else None,
            str(spec.get("of", "")),
            names(spec.get("columns", []), f"{where} columns"),
            pairs(spec.get("shown", []), f"{where} shown"),
        )

    def report(spec: dict[str, Any], where: str, job: str = "") -> Report:
        chart = names(spec.get("chart", []), f"{where} chart")
        if chart and len(chart) != 2:
            raise QueryFileError(f"{path}: {where} chart is [label column, value column]")
        word = str(spec.get("name", ""))
        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", word):  # a command's word: top, by-model
            raise QueryFileError(f"{path}: {where} name {word[:40]!r} is not a command's word")
        return Report(
            word,
            str(spec.get("title", "")),
            name(spec.get("statement"), f"{where} statement"),
            names(spec.get("columns", []), f"{where} columns"),
            job or name(spec.get("job"), f"{where} job"),
            chart,
            str(spec.get("total", "")) and name(spec["total"], f"{where} total"),
        )

    def migrations(spec: dict[str, Any]) -> Migrations:
        if not spec:
            return Migrations()
        if spec.get("tool") not in MIGRATION_TOOLS:
            raise QueryFileError(f"{path}: migrations.tool is one of {', '.join(MIGRATION_TOOLS)}")
        return Migrations(
            spec["tool"], name(spec.get("table"), "migrations.table"), str(spec.get("apply", ""))
        )

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
            str(balance.get("unit", "credits")),
            name(balance["teams"], "balance.teams") if "teams" in balance else "",
        ),
        relations=tuple(relations),
        tables=tables,
        writes={key: name(writes.get(key), f"writes.{key}") for key in ("inserts", "updates")},
        databases={MAIN: str(databases.get(MAIN, ""))}
        | ({DATA: str(databases[DATA])} if DATA in databases else {}),
        data_tables=names(databases.get("data_tables", []), "databases.data_tables"),
        lookup=Lookup(
            str(lookup.get("search", "")),
            "ascii" if lookup.get("case") == "ascii" else "unicode",
            names(lookup.get("columns", []), "lookup.columns"),
            pairs(lookup.get("shown", []), "lookup.shown"),
            tuple(read(spec, n) for n, spec in enumerate(lookup.get("reads", []), start=1)),
            tuple(
                Panel(
                    str(spec.get("title", "")),
                    pairs(spec.get("facts", []), "lookup.panels facts"),
                    str(spec.get("needs", "")),
                    str(spec.get("missing", "")),
                )
                for spec in lookup.get("panels", [])
            ),
        ),
        values={name(k, "a [values] name"): str(v) for k, v in data.get("values", {}).items()},
        processing=History(
            DATA if processing.get("database") == DATA else MAIN,
            str(processing.get("summary", "")),
            names(processing.get("summary_columns", []), "processing.summary_columns"),
            tuple(
                HistoryList(
                    name(spec.get("name"), "processing.lists name"),
                    str(spec.get("title", "")),
                    name(spec.get("statement"), "processing.lists statement"),
                    names(spec.get("columns", []), "processing.lists columns"),
                    str(spec.get("filter", "")) and name(spec["filter"], "processing.lists filter"),
                    tuple(str(c) for c in spec.get("choices", [])),
                )
                for spec in processing.get("lists", [])
            ),
        ),
        health=tuple(report(spec, "health", "health") for spec in data.get("health", [])),
        reports=tuple(report(spec, "reports") for spec in data.get("reports", [])),
        health_command=str(data.get("health_command", "")),
        migrations=migrations(data.get("migrations", {})),
    )
