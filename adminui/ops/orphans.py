"""Orphan rows (seed 003): scan every parent/child relation, preview a check's rows, and act on
exactly the backed-up ids that are still orphans (backups.py writes the backup and restores it).

The safety of a clean rests on three things. The backup is written (fsynced) before anything
changes, and its ids are the only ones the action may touch. The action runs in one transaction,
in batches, and each statement re-checks that a row is still an orphan; if the rows acted on are
not exactly the backed-up number, the transaction rolls back. And a delete that would change rows
of other tables (ON DELETE CASCADE, followed on; or SET NULL) is refused unless those rows, its
*dependents*, were named to the operator, backed up in the same file, and are acted on in the
same transaction, exactly as backed up: otherwise a non-orphan blog post hanging off an orphan
output would block that output's clean forever (issue 13.10).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from adminui.db import Database, Reply, Transaction
from adminui.errors import AdminError, DatabaseError, InputError, OutcomeUnknownError, SetupError
from adminui.ops.health import enforcing_keys
from adminui.ops.values import as_id, counted
from adminui.ops.writes import Batch, Written, audited_batch, audited_write
from adminui.packs import MAIN, Pack, load_pack
from adminui.schema import reference_tables

Action = Literal["delete", "nullify", "create"]
Progress = Callable[[int, int], None]
IsCancelled = Callable[[], bool]

BATCH = 10_000  # ids per statement when cleaning, so a large set shows progress
# ids per statement when counting the rows that point at them: planned for 10,000 ids,
# PostgreSQL hashed all 2M executions (1.2 s a batch); for 1,000 it probes the index (~2 ms).
DEPENDENTS_BATCH = 1_000
CROSS_PAGE = 1_000  # keys per page of a check across databases, and per question to the other:
# up to here PostgreSQL probes the parent key's index per key (10 ms at 240k users); from ~2,000
# it hashes the whole parent table instead (130 ms a question)
PAGE = 1_000  # rows between progress reports (and cancel checks) of a backup or restore
# A check's ids per batch of a clean over D1's API: each batch one request, atomic and guarded
# (D1 ends a request at 30 s; a few hundred rows and their dependents take milliseconds). At
# most 1,000: each batch's audit line lists its ids whole (listed_ids), and restore reads them.
D1_CHUNK = 500
# A key that sorts before every key of its type: where the first page starts.
FIRST_KEY: dict[str, Any] = {
    "uuid": "00000000-0000-0000-0000-000000000000",
    "text": "",
    "integer": -(2**31),
    "bigint": -(2**63),
}


@dataclass(frozen=True)
class Check:
    """One relation: `table.column` pointing at `parent`, and what cleaning does about it."""

    name: str
    parent: str
    action: Action
    records_money: str = ""  # what its rows are called, if they record payments (the manifest)
    secret: bool = False  # its rows hold columns adminui never reads
    key: str = "id"  # the column that names one of its rows (the reference DDL's key)
    key_type: str = "uuid"  # that column's type, as a bound value is cast to it
    pack: Pack | None = None  # whose check it is (None: the default pack's)
    database: str = MAIN  # which of the pack's databases holds its table
    parent_database: str = MAIN  # and which holds its parent's
    parent_key_type: str = "uuid"  # the type of the parent's key (of the column's values)

    @property
    def crosses(self) -> bool:
        """Its parent is in the pack's other database: no join sees both sides, so its rows are
        paged through and the other database asked which of their parents exist."""
        return self.parent_database != self.database

    def key_of(self, row: Any) -> Any:
        """The key of one of its rows, as the backup and the audit line hold it."""
        return plain_key(row[self.key], self.key_type)

    @property
    def first_key(self) -> Any:
        return FIRST_KEY[self.key_type]

    @property
    def table(self) -> str:
        return self.name.split(".")[0]

    @property
    def column(self) -> str:
        return self.name.split(".")[1]

    @property
    def money(self) -> bool:
        """Its rows are money records: deleting them removes the audit trail of a payment."""
        return bool(self.records_money)

    @property
    def restorable(self) -> bool:
        """Whether a backup of it can be put back (secret values are never read, so a backup
        can't recreate them; and creating rows deletes nothing)."""
        return self.action != "create" and not self.secret

    @property
    def does(self) -> str:
        """The action in words, for previews and confirmations."""
        if self.action == "delete":
            return f"delete the {self.table} rows"
        if self.action == "nullify":
            return f"set {self.column} to NULL"
        return f"create the missing {self.parent} rows"

    @property
    def finds(self) -> str:
        """What its rows are, in words."""
        if self.action == "create":
            return f"{self.table} without a {self.parent} row"
        return f"{self.table} rows whose {self.column} points at no {self.parent} row"

    def statement(self, kind: str) -> str:
        return statement_name(kind, self.name)


def statement_name(kind: str, relation: str) -> str:
    """The generated statement of a check ('count', 'clean', ...) of `table.column`: statement
    names are lower case, so OmniChat's conversations.userId is ..._conversations_userid."""
    return f"orphans_{kind}_{relation.replace('.', '_').lower()}"


def plain_key(value: Any, key_type: str) -> Any:
    """A key as adminui holds it: a UUID as its canonical lower-case text on both dialects, a
    text key exactly as stored (case matters: 'aB3' and 'ab3' are two users), a number as is."""
    return KEY_OF[key_type](value)


KEY_OF: dict[str, Callable[[Any], Any]] = {
    "uuid": as_id,
    "text": str,
    "integer": int,
    "bigint": int,
}


@cache
def checks(pack: Pack | None = None) -> tuple[Check, ...]:
    """Every check of the pack (default: Idea Expansion's), from its relations, in their
    cleaning order (a child's check before its parent's, so the rows a parent's delete would
    touch are cleaned first); last, the users missing their balance row, where the balance
    model says each has one."""
    pack = pack or load_pack()
    ddl = reference_tables(pack)

    def keyed(table: str, parent: str) -> dict[str, Any]:
        return {
            "key": ddl[table].key,
            "key_type": ddl[table].key_type,
            "pack": pack,
            "database": pack.database_of(table),
            "parent_database": pack.database_of(parent),
            "parent_key_type": ddl[parent].key_type,
        }

    found = [
        Check(
            r.name,
            r.parent,
            "delete" if r.on_delete == "cascade" else "nullify",
            pack.table(r.table).records_money,
            bool(pack.table(r.table).secret),
            **keyed(r.table, r.parent),
        )
        for r in pack.relations
    ]
    if pack.balance.created_at_signup:
        name = f"{pack.users}.{pack.balance.table}"
        found.append(Check(name, pack.balance.table, "create", **keyed(pack.users, pack.users)))
    return tuple(found)


@dataclass(frozen=True)
class Relation:
    """A reference into a table that a check deletes from: rows of `table` whose `column`
    points at the deleted rows, and whether the database deletes them too (ON DELETE CASCADE)
    or sets the column to NULL (ON DELETE SET NULL)."""

    table: str
    column: str
    parent: str
    deletes: bool
    key: str = "id"  # the key of its rows
    key_type: str = "uuid"

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def does(self) -> str:
        return "deleted with them" if self.deletes else f"{self.column} set to NULL"

    def key_of(self, row: Any) -> Any:
        return plain_key(row[self.key], self.key_type)

    def statement(self, kind: str) -> str:
        return statement_name(kind, f"{self.table}.{self.column}")


@cache
def relations(pack: Pack | None = None) -> tuple[Relation, ...]:
    """The pack's relations into the tables its checks delete from, within one database (read
    when first needed, after the vetted-file check, not at import)."""
    pack = pack or load_pack()
    deleted = {check.table for check in checks(pack) if check.action == "delete"}
    ddl = reference_tables(pack)
    return tuple(
        Relation(
            r.table,
            r.column,
            r.parent,
            r.on_delete == "cascade",
            ddl[r.table].key,
            ddl[r.table].key_type,
        )
        for r in pack.relations
        if r.parent in deleted and not pack.crosses(r)
    )


def shown_columns(check: Check) -> tuple[str, ...]:
    """What identifies a row of the check's table at a glance (after its key and the dangling
    column), as the pack's manifest names them."""
    return (check.pack or load_pack()).table(check.table).shows


def get_relation(name: str, pack: Pack | None = None) -> Relation:
    """The relation called `name` (like `blog_posts.output_id`)."""
    for relation in relations(pack):
        if relation.name == name:
            return relation
    raise InputError("relation", f"no relation is called {name!r}")


def get_check(name: str, pack: Pack | None = None) -> Check:
    """The check called `name` (like `ideas.user_id`) of the pack (default: Idea Expansion's)."""
    for check in checks(pack):
        if check.name == name:
            return check
    known = ", ".join(c.name for c in checks(pack))
    raise InputError("check", f"no check is called {name!r}; the checks are {known}")


class CancelledError(AdminError):
    """The operator cancelled; a write in progress was rolled back."""


@dataclass(frozen=True)
class CheckCount:
    """A check's orphans: counted, or not (None) because `enforced_by`, a constraint, keeps
    them out."""

    check: Check
    count: int | None
    enforced_by: str | None = None
    unreachable: str | None = None  # why it was not counted: its database is not named


@dataclass(frozen=True)
class OrphanPage:
    """One page of a check's rows, whole; `after` fetches the next page (None: no more)."""

    rows: tuple[dict[str, Any], ...]
    after: Any  # the last row's key


@dataclass(frozen=True)
class Dependents:
    """Rows of other tables that deleting a check's rows would change, by relation name, in the
    order they were found (a relation's parents before it)."""

    rows: dict[str, tuple[dict[str, Any], ...]]
    pack: Pack | None = None

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def ids(self) -> dict[str, tuple[Any, ...]]:
        """Relation name -> the keys of its rows, in key order."""
        return {
            name: tuple(sorted(get_relation(name, self.pack).key_of(r) for r in rows))
            for name, rows in self.rows.items()
        }

    def describe(self) -> str:
        """'2 blog_posts rows (blog_posts.output_id, deleted with them: 3f2a1b0c…, 9b1c…)'."""
        parts = []
        for name, ids in self.ids().items():
            relation = get_relation(name, self.pack)
            shown = ", ".join(_short(i) for i in ids[:3]) + (", …" if len(ids) > 3 else "")
            rows = counted(len(ids), f"{relation.table} row")
            parts.append(f"{rows} ({name}, {relation.does}: {shown})")
        return "; ".join(parts)


def _short(key: Any) -> str:
    text = str(key)
    return text if len(text) <= 9 else text[:8] + "…"


@dataclass(frozen=True)
class Backup:
    """A backup file on disk and the ids it holds: the only rows a clean may act on (the
    check's own, and its dependents by relation), and the SHA-256 the file ends with."""

    path: Path
    check: Check
    ids: tuple[Any, ...]
    dependents: dict[str, tuple[Any, ...]]
    digest: str

    @property
    def rows(self) -> int:
        return len(self.ids) + sum(len(ids) for ids in self.dependents.values())


@dataclass(frozen=True)
class CleanResult:
    check: Check
    acted_on: int
    remaining: int | None  # None: the count after the clean could not be read
    backup: Path
    dependents_acted_on: int = 0
    warning: str | None = None


def scan(
    db: Database,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
    *,
    full: bool = False,
) -> tuple[CheckCount, ...]:
    """Every check's count. `progress(done, total)` after each; `cancelled()` is asked between.

    A check whose foreign key PostgreSQL has validated and enforces (`health.enforcing_keys`)
    is not counted unless `full`: at 2M executions its anti-join takes up to a second, the
    catalog answers in milliseconds, and the checks where orphans pile up (a lost, NOT VALID or
    disabled key, seed 003) are still counted. What gets past such a key is a write with its
    triggers off (`session_replication_role = replica`: data-only restores, logical
    replication): `full` counts those checks too."""
    enforced = {} if full else enforcing_keys(db)
    counts = []
    every = checks(db.pack)
    together = _counted_together(db, every) if db.batches_reads else {}
    for done, check in enumerate(every):
        if cancelled and cancelled():
            raise CancelledError("Scan cancelled.")
        key = enforced.get(check.name)
        try:
            found = together.get(check.name)
            counts.append(
                CheckCount(check, None, key)
                if key
                else CheckCount(check, count(db, check) if found is None else found)
            )
        except SetupError as error:  # its database is one the profile doesn't name
            counts.append(CheckCount(check, None, unreachable=str(error)))
        if progress:
            progress(done + 1, len(every))
    return tuple(counts)


def _counted_together(db: Database, every: tuple[Check, ...]) -> dict[str, int]:
    """Where a request costs more than the counting (D1 over its API), the checks within this
    database counted in one request (their progress then moves at once)."""
    plain = [c for c in every if not c.crosses and c.database == db.role]
    found = db.read_many([(c.statement("count"), {}) for c in plain])
    return {
        c.name: int(rows[0]["orphans"]) if rows else 0 for c, rows in zip(plain, found, strict=True)
    }


def on(db: Database, check: Check) -> Database:
    """The database that holds the check's table (a SetupError saying so if it isn't named)."""
    return db.on(check.database, f"{check.table} (check {check.name})")


def count(db: Database, check: Check) -> int:
    db = on(db, check)
    if check.crosses:
        with db.read() as tx:
            return sum(len(keys) for keys in _cross_pages(db, tx, check, check.first_key))
    row = db.one(check.statement("count"))
    return int(row["orphans"]) if row else 0


def preview(db: Database, check: Check, after: Any = None, limit: int = 100) -> OrphanPage:
    """One page of the check's rows, in key order."""
    db = on(db, check)
    with db.read() as tx:
        start = check.first_key if after is None else after
        found = rows_of(db, tx, check, start, limit, stream=False)
        page = tuple(plain_row(row) for row in found)
    return OrphanPage(page, check.key_of(page[-1]) if len(page) == limit else None)


def rows_of(
    db: Database, tx: Transaction, check: Check, after: Any, limit: int, *, stream: bool = True
) -> Iterator[Any]:
    """The check's rows after the key `after`, whole, in key order, at most `limit`, from `tx`
    (a transaction on `db`, the check's database): streamed, for a backup's many rows, or (not
    `stream`) read whole, for a page, where a server-side cursor's DECLARE and FETCHes cost
    1.5-2x on top."""
    if not check.crosses:
        read = tx.stream if stream else tx.rows
        yield from read(check.statement("preview"), after=after, limit=limit)
        return
    for keys in _cross_pages(db, tx, check, after):
        while keys and limit > 0:  # a row gone since its page was read comes back short
            asked, keys = keys[:limit], keys[limit:]
            rows = tx.rows(check.statement("rows"), ids=asked)
            yield from rows
            limit -= len(rows)
        if limit <= 0:
            return


def _cross_pages(db: Database, tx: Transaction, check: Check, after: Any) -> Iterator[list[Any]]:
    """The orphan keys of each page of a check across databases, in key order: its table's keys
    a page (CROSS_PAGE) at a time, keyset, the other database asked in one read transaction
    which of the page's parents exist. Both sides' keys travel in batches, neither table is ever
    held whole, and keys are compared as the parent's database compares them (exactly: 'USR_5'
    is not 'usr_5')."""
    parent = KEY_OF[check.parent_key_type]
    with _parents(db, check).read() as other:
        while True:
            # Keys as stored, to page and bind by (SQLite compares a UUID's text byte for byte).
            page = [
                (row[check.key], parent(row[check.column]))
                for row in tx.rows(check.statement("candidates"), after=after, limit=CROSS_PAGE)
            ]
            present = _present(other, check, {p for _, p in page})
            yield [key for key, p in page if p not in present]
            if len(page) < CROSS_PAGE:
                return
            after = page[-1][0]


def _parents(db: Database, check: Check) -> Database:
    return db.on(check.parent_database, f"{check.parent} (check {check.name})")


def _present(other: Transaction, check: Check, keys: set[Any]) -> set[Any]:
    """Which of `keys` the parent table of the other database holds."""
    if not keys:
        return set()
    rows = other.rows(f"orphans_present_{check.parent}", ids=sorted(keys))
    return {KEY_OF[check.parent_key_type](row["present"]) for row in rows}


def _gone(tx: Transaction, other: Transaction, check: Check, ids: tuple[Any, ...]) -> list[Any]:
    """The parents of these rows (read in `tx`) that the other database (`other`, held still by
    `_holding_parents`) does not hold, asked now: what a clean across databases may delete the
    rows for."""
    parents = {
        plain_key(row["parent"], check.parent_key_type)
        for batch in _batches(ids, BATCH)
        for row in tx.rows(check.statement("parents"), ids=list(batch))
    }
    present = set().union(
        *(_present(other, check, set(b)) for b in _batches(tuple(sorted(parents)), CROSS_PAGE))
    )
    return sorted(parents - present)


@contextmanager
def _holding_parents(db: Database, check: Check) -> Iterator[Transaction | None]:
    """For a check across databases, a transaction on the other database that holds its parent
    table still (orphans_hold_: no user can sign up or be deleted) from the moment the clean asks
    which parents are gone until the clean has committed; a user created in between would
    otherwise lose the rows just found to be orphans. It writes nothing, so once the clean's own
    block is done, a failure to end it changes nothing (the lock ends with the connection)."""
    if not check.crosses:
        yield None
        return
    done = False
    try:
        with _parents(db, check).write() as other:
            other.run(f"orphans_hold_{check.parent}")
            yield other
            done = True
    except AdminError:
        if not done:
            raise


def plain_row(row: Any) -> dict[str, Any]:
    """A row as a dict, ids as their canonical text on both dialects."""
    return {key: as_id(value) if isinstance(value, UUID) else value for key, value in row.items()}


def dependents(db: Database, check: Check, ids: tuple[Any, ...]) -> Dependents:
    """The rows of other tables that deleting these rows of the check would change."""
    with on(db, check).read(exact_json=True) as tx:
        return find_dependents(tx, check, ids)


def blocking(db: Database, check: Check) -> Dependents:
    """The rows of other tables a clean of the check would change, found before anything is
    asked of the operator (the backup finds them again, with the rows it writes)."""
    if check.action != "delete":
        return Dependents({}, check.pack)
    limit = count(db, check) + BATCH  # a row planted since the count is found too
    db = on(db, check)
    with db.read() as tx:
        rows = rows_of(db, tx, check, check.first_key, limit)
        ids = tuple(check.key_of(row) for row in rows)
        return find_dependents(tx, check, ids)


def find_dependents(tx: Transaction, check: Check, ids: tuple[Any, ...]) -> Dependents:
    """Follow the relations from the check's rows: SET NULL rows stay (only their column
    changes), CASCADE rows are deleted too, so the rows pointing at *them* are followed on. A
    foreign key of the live database into those tables that the reference schema doesn't have
    stops the clean: its rows would change without a backup."""
    found: dict[str, tuple[dict[str, Any], ...]] = {}
    frontier = [(check.table, ids)] if check.action == "delete" else []
    if frontier:
        _refuse_unknown_references(tx, check)
    while frontier:
        table, parent_ids = frontier.pop(0)
        for relation in relations(check.pack):
            if relation.parent != table:
                continue
            rows: dict[Any, dict[str, Any]] = {}
            for batch in _batches(parent_ids, DEPENDENTS_BATCH):
                for row in tx.rows(relation.statement("dependents"), ids=list(batch)):
                    rows[relation.key_of(row)] = plain_row(row)
            if rows:
                found[relation.name] = tuple(rows[i] for i in sorted(rows))
                if relation.deletes:
                    frontier.append((relation.table, tuple(sorted(rows))))
    return Dependents(found, check.pack)


def _refuse_unknown_references(tx: Transaction, check: Check) -> None:
    """Refuse a delete from tables that a live foreign key the reference schema lacks points
    at (another table of the product, made after the seed): the clean can't back it up."""
    deleted = {check.table} | {r.table for r in relations(check.pack) if r.deletes}
    known = {(r.table, r.column) for r in relations(check.pack)} | {
        (c.table, c.column) for c in checks(check.pack) if c.action != "create"
    }
    unknown = sorted(
        f"{row['child_table']}.{row['child_column']} -> {row['parent_table']}"
        for row in tx.rows("live_foreign_keys")
        if row["parent_table"] in deleted and (row["child_table"], row["child_column"]) not in known
    )
    if unknown:
        raise AdminError(
            f"The database has foreign keys adminui's schema doesn't know ({', '.join(unknown)}): "
            f"deleting {check.table} rows could change their rows, which no backup would hold. "
            "Nothing was changed; clean those rows by hand, or add the relation to adminui."
        )


class DependentsError(AdminError):
    """A clean's delete would change rows it was not told to include (`found`)."""

    def __init__(self, check: Check, found: Dependents) -> None:
        super().__init__(
            f"Deleting these {check.table} rows would change rows that are not orphans: "
            f"{found.describe()}. Include them (they are backed up in the same file, acted on in "
            "the same transaction and restored with it), or clean their own checks first; "
            "nothing was changed and no backup kept."
        )
        self.found = found


def clean(
    db: Database,
    saved: Backup,
    operator: str,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
) -> CleanResult:
    """Act on the backed-up rows in one audited transaction: first the dependents (children
    before parents), then the check's ids that are still orphans; roll back unless every row
    acted on is one backed up, and every backed-up row is acted on. A failed clean leaves its
    backup file, and says so."""
    check, ids = saved.check, saved.ids
    if not ids:
        raise InputError("check", f"{check.name} has no rows to clean")
    db = on(db, check)
    if not db.holds_transactions:
        return _clean_in_batches(db, saved, operator, progress, cancelled)

    def body(tx: Transaction) -> Written[CleanResult]:
        now = find_dependents(tx, check, ids)
        if now.ids() != saved.dependents:
            if not saved.dependents:
                raise DependentsError(check, now)
            raise AdminError(
                f"The rows that point at these {check.table} rows changed since the backup "
                f"(now: {now.describe() or 'none'}); the transaction was rolled back and nothing "
                "changed. Back up again."
            )
        dependents_acted = 0
        for name in reversed(saved.dependents):  # children before their parents
            relation = get_relation(name, check.pack)
            parents = _deleted_ids(relation.parent, saved)
            dependents_acted += _act(
                tx,
                relation.statement("cascade"),
                saved.dependents[name],
                f"backed-up {relation.table} rows ({name}) still point at the rows deleted",
                cancelled,
                parents=list(parents),
            )
        # Across databases, the other one is asked again which parents are gone: a row whose
        # parent came back (or whose reference changed) is not deleted, and the clean rolls back.
        gone = {"gone": _gone(tx, other, check, ids)} if other else {}
        acted = _act(
            tx,
            check.statement("clean"),
            ids,
            f"previewed {check.table} rows are still orphans",
            cancelled,
            progress=progress,
            **gone,
        )
        return Written(
            CleanResult(check, acted, 0, saved.path, dependents_acted),
            {
                "check": check.name,
                "action": check.action,
                "backup": str(saved.path),
                "backup_sha256": saved.digest,
            },
            {check.table: listed_ids(ids)}
            | {name: listed_ids(found) for name, found in saved.dependents.items()},
            {"orphans": len(ids), "dependents": sum(map(len, saved.dependents.values()))},
            {"acted_on": acted, "dependents_acted_on": dependents_acted},
        )

    try:
        with _holding_parents(db, check) as other:
            result, warning = audited_write(db, operator, f"orphans.clean {check.name}", body, None)
    except AdminError as error:
        error.args = (f"{error} The backup {saved.path} stays (delete it if not needed).",)
        raise
    # Counted once committed (an anti-join inside the transaction would hold its locks longer),
    # as a courtesy: the clean is done whether or not the count can be read.
    try:
        remaining: int | None = count(db, check)
    except AdminError:
        remaining = None
    return replace(result, remaining=remaining, warning=warning)


def _clean_in_batches(
    db: Database,
    saved: Backup,
    operator: str,
    progress: Progress | None,
    cancelled: IsCancelled | None,
) -> CleanResult:
    """A clean over D1's API, which has no transaction to hold: the backed-up ids a chunk at a
    time, each chunk one batch that guards itself and its own audited write (its audit line
    names its slice of the backup's ids, so a restore puts back only what committed parts
    removed). The batch's first statements fail it whole (D1 then rolls it all back) unless
    every id of the chunk is still an orphan and the rows pointing at them are exactly those
    found just before (which must be backed up); then the dependents are acted on, children
    first, then the chunk.

    Stopped between chunks (Esc, a refusal, a lost connection), the chunks before are done,
    each whole, the rest untouched: the backup holds every row, and a restore puts back those
    the committed chunks removed."""
    check = saved.check
    backed = {name: set(found) for name, found in saved.dependents.items()}
    seen: dict[str, set[Any]] = {name: set() for name in saved.dependents}
    acted = dependents_acted = 0
    warnings: list[str] = []
    for part, start in enumerate(range(0, len(saved.ids), D1_CHUNK), start=1):
        chunk = saved.ids[start : start + D1_CHUNK]
        done = f"{acted} of the {len(saved.ids)} {check.table} rows were cleaned before it"
        if cancelled and cancelled():
            raise CancelledError(f"Clean stopped; {done}. The backup {saved.path} stays.")
        try:
            found = dependents(db, check, chunk).ids()
            if any(not set(keys) <= backed.get(name, set()) for name, keys in found.items()):
                raise AdminError(f"rows pointing at these {check.table} rows changed since it")
            batch, settled = _chunk_batch(check, saved, part, (start, start + len(chunk)), found)
            counts, warning = audited_batch(
                db, operator, f"orphans.clean {check.name}", batch, settled
            )
        except OutcomeUnknownError as error:
            raise OutcomeUnknownError(
                f"Batch {part} of the clean: {error} {done}. The backup {saved.path} stays."
            ) from None
        except AdminError as error:
            held = "integer overflow" in str(error)  # a guard of orphans_still/exactly failed
            why = "its rows changed since the backup (a guard held it back)" if held else error
            raise AdminError(
                f"Batch {part} of the clean was not applied: {why}; {done}. The backup "
                f"{saved.path} stays."
            ) from error
        acted += counts[-1]
        dependents_acted += sum(counts[:-1])
        warnings += [warning] if warning else []
        for name, keys in found.items():
            seen[name].update(keys)
        if progress:
            progress(acted, len(saved.ids))
    gone = sum(len(backed[name] - seen[name]) for name in backed)
    if gone:  # deleted by someone else between the backup and the clean
        warnings.append(
            f"{gone} backed-up rows that pointed at them were gone before the clean reached "
            "them (deleted elsewhere); a restore of this backup would put them back."
        )
    try:
        remaining: int | None = count(db, check)
    except AdminError:
        remaining = None
    return CleanResult(
        check, acted, remaining, saved.path, dependents_acted, " ".join(warnings) or None
    )


def _chunk_batch(
    check: Check,
    saved: Backup,
    part: int,
    ids: tuple[int, int],
    found: dict[str, tuple[Any, ...]],
) -> tuple[Batch[list[int]], Callable[[Database], list[int] | None]]:
    """One chunk's guarded batch (`ids`: its slice of the backup's ids), its audit record, and
    its acts' counts as its result: each exactly what it was to act on, or an anomaly. And how
    to settle it if its reply is lost: its first guard asked again. Still holding (every id
    still an orphan), it did not apply (or not yet: unknown); failing, it did, whole (it was
    atomic, and only it acts on these rows), with the counts its guards held for."""
    chunk = saved.ids[ids[0] : ids[1]]
    calls, acting = _guarded_clean(check, chunk, found)
    expected = [len(calls[i][1]["ids"]) for i in acting]

    def counts(replies: list[Reply]) -> list[int]:
        acted = [replies[i].count for i in acting]
        if acted != expected:  # can't be: the guards held, in one batch
            raise DatabaseError(
                f"Batch {part} of the clean acted on {acted} rows where its guards held for "
                f"{expected}; look at the database before going on."
            )
        return acted

    def settled(again: Database) -> list[int] | None:
        try:
            again.rows(check.statement("still"), ids=list(chunk))
        except AdminError as error:
            if "integer overflow" in str(error):
                return expected
            raise
        return None

    return Batch(
        calls,
        {
            "check": check.name,
            "action": check.action,
            "backup": str(saved.path),
            "backup_sha256": saved.digest,
            "part": part,
            "ids_from": ids[0],
            "ids_to": ids[1],
        },
        {check.table: listed_ids(chunk)} | {n: listed_ids(k) for n, k in found.items()},
        {"orphans": len(chunk), "dependents": sum(map(len, found.values()))},
        {"acted_on": len(chunk), "dependents_acted_on": sum(map(len, found.values()))},
        counts,
    ), settled


def _guarded_clean(
    check: Check, chunk: tuple[Any, ...], found: dict[str, tuple[Any, ...]]
) -> tuple[list[tuple[str, dict[str, Any]]], list[int]]:
    """One chunk's batch: its guards (every relation into a table it deletes from, those with
    no rows found too: none may point there now), then its acts (children first); and which of
    its statements act (their counts are what was cleaned)."""
    guards = [(check.statement("still"), {"ids": list(chunk)})]
    acts = [(check.statement("clean"), {"ids": list(chunk)})]
    frontier = [(check.table, list(chunk))] if check.action == "delete" else []
    while frontier:
        table, parents = frontier.pop(0)
        for relation in relations(check.pack):
            if relation.parent != table:
                continue
            values = {"ids": list(found.get(relation.name, ())), "parents": parents}
            guards.append((relation.statement("exactly"), values))
            if values["ids"]:
                acts.insert(0, (relation.statement("cascade"), values))
                if relation.deletes:
                    frontier.append((relation.table, values["ids"]))
    return guards + acts, list(range(len(guards), len(guards) + len(acts)))


def _deleted_ids(table: str, saved: Backup) -> tuple[Any, ...]:
    """The keys a clean deletes from `table`: the check's own, or a cascading relation's."""
    if table == saved.check.table:
        return saved.ids
    pack = saved.check.pack
    return next(
        ids
        for name, ids in saved.dependents.items()
        if get_relation(name, pack).table == table and get_relation(name, pack).deletes
    )


def _act(
    tx: Transaction,
    statement: str,
    ids: tuple[Any, ...],
    rows_still: str,
    cancelled: IsCancelled | None,
    *,
    progress: Progress | None = None,
    **params: Any,
) -> int:
    """Run one action over the ids in batches; roll back unless it acted on every one
    (`rows_still` says what every one should still be, for the refusal)."""
    acted = 0
    for batch in _batches(ids, BATCH):
        if cancelled and cancelled():
            raise CancelledError(
                "Clean cancelled; the transaction was rolled back, nothing changed."
            )
        acted += tx.run(statement, ids=list(batch), **params)
        if progress:
            progress(min(acted, len(ids)), len(ids))
    if acted != len(ids):
        raise AdminError(
            f"Only {acted} of the {len(ids)} {rows_still} (some gained their parent or were "
            "changed or removed since the preview); the transaction was rolled back and nothing "
            "changed. Preview again."
        )
    return acted


def listed_ids(ids: tuple[Any, ...]) -> list[Any] | str:
    """Ids as an audit line holds them: all of them up to 1,000, else a count (the backup,
    whose SHA-256 the line records, holds them all)."""
    return list(ids) if len(ids) <= 1000 else f"{len(ids)} ids, see the backup"


def _batches(ids: tuple[Any, ...], size: int) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
