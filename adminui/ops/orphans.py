"""Orphan rows (seed 003): scan every parent/child relation, preview a check's rows, back them up,
act on exactly the backed-up ids that are still orphans, and put a backup back.

The safety of a clean rests on three things. The backup is written (flushed and fsynced) before
anything changes, and its ids are the only ones the action may touch. The action runs in one
transaction, in batches, and each statement re-checks that a row is still an orphan; if the rows
acted on are not exactly the previewed number, the transaction rolls back. And a delete that
would cascade to, or leave dangling, rows of other tables (which are not in the backup) is
refused before it starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from adminui.config import data_dir
from adminui.db import Database, Transaction
from adminui.errors import AdminError, InputError
from adminui.ops.health import enforcing_keys
from adminui.ops.values import as_id
from adminui.ops.writes import Written, audited_write
from adminui.output import json_value

Action = Literal["delete", "nullify", "create"]
Progress = Callable[[int, int], None]
IsCancelled = Callable[[], bool]

BATCH = 10_000  # ids per statement when cleaning, so a large set shows progress
# ids per statement when counting the rows that point at them: planned for 10,000 ids,
# PostgreSQL hashed all 2M executions (1.2 s a batch); for 1,000 it probes the index (~2 ms).
DEPENDENTS_BATCH = 1_000
PAGE = 1_000  # rows between progress reports (and cancel checks) of a backup or restore
BACKUP_FORMAT = 1
_FIRST_ID = "00000000-0000-0000-0000-000000000000"  # sorts before every id: the first page


@dataclass(frozen=True)
class Check:
    """One relation: `table.column` pointing at `parent`, and what cleaning does about it."""

    name: str
    parent: str
    action: Action

    @property
    def table(self) -> str:
        return self.name.split(".")[0]

    @property
    def column(self) -> str:
        return self.name.split(".")[1]

    @property
    def money(self) -> bool:
        """Its rows are money records: deleting them removes the audit trail of a payment."""
        return self.table == "payment_receipts"

    @property
    def restorable(self) -> bool:
        """Whether a backup of it can be put back (credentials' secret values are never read,
        and creating rows deletes nothing)."""
        return self.action != "create" and self.table != "credentials"

    @property
    def does(self) -> str:
        """The action in words, for previews and confirmations."""
        if self.action == "delete":
            return f"delete the {self.table} rows"
        if self.action == "nullify":
            return f"set {self.column} to NULL"
        return "create the missing usage_tracking rows"

    @property
    def finds(self) -> str:
        """What its rows are, in words."""
        if self.action == "create":
            return "users without a usage_tracking row"
        return f"{self.table} rows whose {self.column} points at no {self.parent} row"

    def statement(self, kind: str) -> str:
        return f"orphans_{kind}_{self.name.replace('.', '_')}"


# In cleaning order: a child's check comes before its parent's, so the rows that a parent's
# delete would touch are cleaned first.
CHECKS = (
    Check("blog_posts.output_id", "outputs", "delete"),
    Check("blog_posts.user_id", "users", "delete"),
    Check("outputs.execution_id", "executions", "delete"),
    Check("outputs.user_id", "users", "delete"),
    Check("outputs.idea_id", "ideas", "nullify"),
    Check("executions.user_id", "users", "delete"),
    Check("executions.selected_idea_id", "ideas", "nullify"),
    Check("ideas.user_id", "users", "delete"),
    Check("credentials.user_id", "users", "delete"),
    Check("usage_tracking.user_id", "users", "delete"),
    Check("payment_receipts.user_id", "users", "delete"),
    Check("users.usage_tracking", "usage_tracking", "create"),
)
# Tables other rows point at: deleting their rows would cascade or leave new dangling references.
_REFERENCED = {"ideas", "executions", "outputs"}


def get_check(name: str) -> Check:
    """The check called `name` (like `ideas.user_id`)."""
    for check in CHECKS:
        if check.name == name:
            return check
    known = ", ".join(c.name for c in CHECKS)
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


@dataclass(frozen=True)
class OrphanPage:
    """One page of a check's rows, whole; `after` fetches the next page (None: no more)."""

    rows: tuple[dict[str, Any], ...]
    after: str | None


@dataclass(frozen=True)
class Backup:
    """A backup file on disk and the ids it holds: the only rows a clean may act on."""

    path: Path
    check: Check
    ids: tuple[str, ...]


@dataclass(frozen=True)
class CleanResult:
    check: Check
    acted_on: int
    remaining: int
    backup: Path
    warning: str | None = None


@dataclass(frozen=True)
class RestoreResult:
    check: Check
    restored: int
    refused: tuple[str, ...]  # ids whose row exists already (or, relinking, is gone or changed)
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
    for done, check in enumerate(CHECKS):
        if cancelled and cancelled():
            raise CancelledError("Scan cancelled.")
        key = enforced.get(check.name)
        counts.append(CheckCount(check, None, key) if key else CheckCount(check, count(db, check)))
        if progress:
            progress(done + 1, len(CHECKS))
    return tuple(counts)


def count(db: Database, check: Check) -> int:
    row = db.one(check.statement("count"))
    return int(row["orphans"]) if row else 0


def preview(db: Database, check: Check, after: str | None = None, limit: int = 100) -> OrphanPage:
    """One page of the check's rows, in id order."""
    with db.read() as tx:
        return _page(tx, check, after, limit)


def _page(tx: Transaction, check: Check, after: str | None, limit: int) -> OrphanPage:
    rows = tx.rows(check.statement("preview"), after=after or _FIRST_ID, limit=limit)
    page = tuple(_plain(row) for row in rows)
    return OrphanPage(page, as_id(page[-1]["id"]) if len(page) == limit else None)


def _plain(row: Any) -> dict[str, Any]:
    """A row as a dict, ids as their canonical text on both dialects."""
    return {key: as_id(value) if isinstance(value, UUID) else value for key, value in row.items()}


def dependents(db: Database, check: Check, ids: tuple[str, ...]) -> dict[str, int]:
    """Rows of other tables that point at these ids (only for a delete of a referenced table)."""
    with db.read() as tx:
        return _dependents(tx, check, ids)


def _dependents(tx: Transaction, check: Check, ids: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    if check.action != "delete" or check.table not in _REFERENCED:
        return found
    for batch in _batches(ids, DEPENDENTS_BATCH):
        for row in tx.rows(f"orphans_dependents_{check.table}", ids=list(batch)):
            found[row["referrer"]] = found.get(row["referrer"], 0) + int(row["count"])
    return {referrer: n for referrer, n in found.items() if n}


def default_backup_path(check: Check, now: datetime | None = None) -> Path:
    """A new file in the platform data dir, named by check and time."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return data_dir() / "backups" / f"{check.name}-{stamp}.jsonl"


def backup(
    db: Database,
    check: Check,
    path: Path | None = None,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
) -> Backup:
    """Write every row of the check, whole, to a new JSON-lines file (a header line, then one
    line per row), flushed and fsynced; never overwrites a file. A delete that would touch rows
    of other tables is refused here, and its file removed."""
    target = (path or default_backup_path(check)).expanduser()
    total = count(db, check)
    ids: list[str] = []
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = target.open("x", encoding="utf-8")
    except FileExistsError:
        raise InputError("backup", f"{target} exists already; choose a new file") from None
    except OSError as error:
        raise InputError("backup", f"can't write {target}: {error.strerror}") from None
    try:
        with handle:
            os.chmod(target, 0o600)  # it holds user data
            handle.write(_dumps(_header(db, check, total)) + "\n")
            with db.read() as tx:
                # One pass over the orphans, streamed (a keyset page each would redo the anti-join
                # per page); a row planted since the count is kept too: the ids written are the set.
                limit = total + BATCH
                rows = tx.stream(check.statement("preview"), after=_FIRST_ID, limit=limit)
                for row in rows:
                    handle.write(_dumps(_plain(row)) + "\n")
                    ids.append(as_id(row["id"]))
                    if len(ids) % PAGE == 0:
                        if cancelled and cancelled():
                            raise CancelledError("Backup cancelled; nothing was changed.")
                        if progress:
                            progress(len(ids), max(total, len(ids)))
                if progress:
                    progress(len(ids), max(total, len(ids)))
            handle.flush()
            os.fsync(handle.fileno())
        touched = dependents(db, check, tuple(ids))
        if touched:
            raise AdminError(_touches(check, touched))
    except BaseException:
        target.unlink(missing_ok=True)  # half a backup must not pass for a whole one
        raise
    _fsync_dir(target.parent)
    return Backup(target, check, tuple(ids))


def _header(db: Database, check: Check, rows: int) -> dict[str, Any]:
    return {
        "adminui_backup": BACKUP_FORMAT,
        "check": check.name,
        "action": check.action,
        "table": check.table,
        "profile": db.profile.name,
        "host": db.profile.where,
        "dialect": db.dialect,
        "written_at": datetime.now(UTC).isoformat(),
        "rows_counted": rows,
    }


def _dumps(value: Any) -> str:
    return json.dumps(json_value(value), ensure_ascii=False, sort_keys=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean(
    db: Database,
    saved: Backup,
    operator: str,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
) -> CleanResult:
    """Act on the backed-up ids that are still orphans, in one transaction; roll back unless
    that is every one of them. Appends an audit line once committed."""
    check, ids = saved.check, saved.ids
    if not ids:
        raise InputError("check", f"{check.name} has no rows to clean")

    def body(tx: Transaction) -> Written[CleanResult]:
        acted = 0
        touched = _dependents(tx, check, ids)
        if touched:
            raise AdminError(_touches(check, touched))
        for batch in _batches(ids, BATCH):
            if cancelled and cancelled():
                raise CancelledError(
                    "Clean cancelled; the transaction was rolled back, nothing changed."
                )
            acted += tx.run(check.statement("clean"), ids=list(batch))
            if progress:
                progress(min(acted, len(ids)), len(ids))
        if acted != len(ids):
            raise AdminError(
                f"Only {acted} of the {len(ids)} previewed {check.table} rows are still orphans "
                "(some gained their parent or were changed or removed since the preview); the "
                "transaction was rolled back and nothing changed. Preview again."
            )
        return Written(
            CleanResult(check, acted, 0, saved.path),
            {"check": check.name, "action": check.action, "backup": str(saved.path)},
            {check.table: list(ids) if len(ids) <= 1000 else f"{len(ids)} ids, see the backup"},
            {"orphans": len(ids)},
            {"acted_on": acted},
        )

    result, warning = audited_write(
        db, operator, f"orphans.clean {check.name}", body, lambda _db, done: done
    )
    # Counted once committed: an anti-join inside the transaction would hold its locks longer.
    return replace(result, remaining=count(db, check), warning=warning)


def _touches(check: Check, touched: dict[str, int]) -> str:
    what = ", ".join(f"{n} {referrer.replace('.', ' rows (')})" for referrer, n in touched.items())
    return (
        f"Refused: {what} point at these {check.table} rows; deleting them would change those "
        "rows too, and they are not in the backup. Clean those rows' own checks first "
        "(the scan lists children before parents); nothing was changed and no backup kept."
    )


def _batches(ids: tuple[str, ...], size: int) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@dataclass(frozen=True)
class BackupFile:
    """A backup read back: its header and rows, checked against the check's statements."""

    path: Path
    check: Check
    header: dict[str, Any]
    rows: tuple[dict[str, Any], ...]


def read_backup(path: Path) -> BackupFile:
    """Parse a backup file; any damage is an InputError naming the line."""
    try:
        lines = path.expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError("backup", f"can't read {path}: {error.strerror}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise InputError("backup", f"{path} line {number} is not JSON") from None
    header = records[0] if records else {}
    if not isinstance(header, dict) or header.get("adminui_backup") != BACKUP_FORMAT:
        raise InputError("backup", f"{path} is not an adminui orphan backup")
    check = get_check(str(header.get("check")))
    if not all(isinstance(r, dict) and r.get("id") for r in records[1:]):
        raise InputError("backup", f"{path} holds a row without an id")
    return BackupFile(path, check, header, tuple(records[1:]))


def restore(
    db: Database,
    saved: BackupFile,
    operator: str,
    progress: Progress | None = None,
) -> RestoreResult:
    """Put a backup's rows back in one transaction: reinsert deleted rows, or put a nulled
    reference back; rows whose id exists already (or, relinking, is gone) are refused."""
    check = saved.check
    if not check.restorable:
        reason = (
            "adminui never reads credentials' secret values, so the backup can't recreate them"
            if check.table == "credentials"
            else "that clean created rows and deleted nothing"
        )
        raise InputError("backup", f"a {check.name} backup can't be restored: {reason}")
    if saved.header.get("dialect") != db.dialect:
        raise InputError("backup", f"it was written from a {saved.header.get('dialect')} database")
    name = (
        f"orphans_reinsert_{check.table}" if check.action == "delete" else check.statement("relink")
    )
    columns = db.statement(name).params

    def body(tx: Transaction) -> Written[RestoreResult]:
        refused = []
        for done, row in enumerate(saved.rows, start=1):
            if not columns <= set(row):
                missing = ", ".join(sorted(columns - set(row)))
                raise InputError("backup", f"row {row['id']} lacks {missing}; nothing restored")
            if not tx.run(name, **{key: _bindable(row[key]) for key in columns}):
                refused.append(str(row["id"]))
            if progress and (done % PAGE == 0 or done == len(saved.rows)):
                progress(done, len(saved.rows))
        restored = len(saved.rows) - len(refused)
        return Written(
            RestoreResult(check, restored, tuple(refused)),
            {"check": check.name, "backup": str(saved.path)},
            {check.table: f"{restored} rows restored, {len(refused)} refused"},
            {},
            {"restored": restored, "refused": refused[:1000]},
        )

    result, warning = audited_write(
        db, operator, f"orphans.restore {check.name}", body, lambda _db, done: done
    )
    return replace(result, warning=warning)


def _bindable(value: Any) -> Any:
    """JSON values (jsonb, text[]) go back as JSON text; the SQL casts them."""
    return json.dumps(value) if isinstance(value, dict | list) else value
