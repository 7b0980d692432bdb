"""Orphan backups: written before a clean, whole and exact, and put back only when a recorded clean
made them.

A backup is a JSON-lines file: a header; one line per row (`via` names the check, or the relation
by which a dependent row is included, and `row` the row, whole, its JSON numbers exact); and an
end line with the row counts and the SHA-256 of every line before it. It is written to
`<file>.partial` and linked into place only once complete and fsynced, so a backup killed midway
never stands at the path a clean names. The clean's audit line records that SHA-256.

`restore` puts back only such a file: it must end with its end line (a file cut short is
refused), match its own digest (an edited file is refused), and match the digest of a committed
clean of the same check on the same database in the audit log (a hand-written file is refused:
issue 13.5 restored a forged $1,000 receipt and 1,000,000 credits). Its audit line names the ids
and the money put back.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from adminui import audit, exact_json
from adminui.config import data_dir
from adminui.db import Database, Transaction
from adminui.errors import InputError
from adminui.ops import orphans
from adminui.ops.orphans import (
    Backup,
    CancelledError,
    Check,
    DependentsError,
    IsCancelled,
    Progress,
    count,
    dependents,
    get_check,
    get_relation,
    listed_ids,
    plain_row,
)
from adminui.ops.writes import Batch, Written, audited_batch, audited_write
from adminui.packs import Pack, load_pack, pack_named

FORMAT = 2
MAX_LINE = 256 * 1024 * 1024  # one row, whole: outputs' content can be large, not this large


def default_backup_path(check: Check, now: datetime | None = None) -> Path:
    """A new file in the platform data dir, named by check and time."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return data_dir() / "backups" / f"{check.name}-{stamp}.jsonl"


class _Writer:
    """Lines into `<target>.partial`, hashed as written; `finish` ends, fsyncs and links the
    file into place (never over an existing file)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.partial = target.with_name(target.name + ".partial")
        self.digest = hashlib.sha256()
        self.counts: dict[str, int] = {}
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                raise InputError("backup", f"{target} exists already; choose a new file")
            self.handle: TextIO = self.partial.open("x", encoding="utf-8")
        except FileExistsError:
            raise InputError(
                "backup",
                f"{self.partial} is left from a backup that was stopped (it is no backup: "
                "restore refuses it); delete it or choose a new file",
            ) from None
        except OSError as error:
            raise InputError("backup", f"can't write {target}: {error.strerror}") from None
        os.chmod(self.partial, 0o600)  # it holds user data

    def line(self, value: dict[str, Any]) -> None:
        text = exact_json.dumps(value) + "\n"
        self.digest.update(text.encode())
        self.handle.write(text)

    def row(self, via: str, row: dict[str, Any]) -> None:
        self.line({"via": via, "row": row})
        self.counts[via] = self.counts.get(via, 0) + 1

    def finish(self) -> str:
        digest = self.digest.hexdigest()
        self.handle.write(exact_json.dumps({"adminui_backup_end": self.counts, "sha256": digest}))
        self.handle.write("\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        try:
            os.link(self.partial, self.target)  # fails rather than overwrite
        except FileExistsError:
            raise InputError(
                "backup", f"{self.target} appeared meanwhile; nothing was changed"
            ) from None
        finally:
            self.partial.unlink(missing_ok=True)
        audit.fsync_dir(self.target.parent)
        return digest

    def abandon(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)


def backup(
    db: Database,
    check: Check,
    path: Path | None = None,
    progress: Progress | None = None,
    cancelled: IsCancelled | None = None,
    *,
    include_dependents: bool = False,
) -> Backup:
    """Write every row of the check, whole, to a new backup file. Rows of other tables that
    deleting them would change are refused (and nothing kept) unless `include_dependents`:
    then they are written to the same file, for the clean to act on and a restore to put back."""
    db = orphans.on(db, check)
    target = (path or default_backup_path(check)).expanduser()
    total = count(db, check)
    out = _Writer(target)
    ids: list[Any] = []
    try:
        out.line(_header(db, check, total))
        with db.read(exact_json=True) as tx:
            # One pass over the orphans, streamed (a keyset page each would redo the anti-join
            # per page); a row planted since the count is kept too: the ids written are the set.
            rows = orphans.rows_of(db, tx, check, check.first_key, total + orphans.BATCH)
            for row in rows:
                out.row(check.name, plain_row(row))
                ids.append(check.key_of(row))
                if len(ids) % orphans.PAGE == 0:
                    if cancelled and cancelled():
                        raise CancelledError("Backup cancelled; nothing was changed.")
                    if progress:
                        progress(len(ids), max(total, len(ids)))
        if progress:
            progress(len(ids), max(total, len(ids)))
        found = dependents(db, check, tuple(ids))
        if found.total and not include_dependents:
            raise DependentsError(check, found)
        for name, dependent_rows in found.rows.items():
            for row in dependent_rows:
                out.row(name, row)
        digest = out.finish()
    except BaseException:
        out.abandon()  # half a backup must not pass for a whole one
        raise
    return Backup(target, check, tuple(ids), found.ids(), digest)


def _header(db: Database, check: Check, rows: int) -> dict[str, Any]:
    return {
        "adminui_backup": FORMAT,
        "product": db.pack.name,
        "check": check.name,
        "action": check.action,
        "table": check.table,
        "profile": db.profile.name,
        "host": db.profile.where,
        "dialect": db.dialect,
        "written_at": datetime.now(UTC).isoformat(),
        "rows_counted": rows,
    }


@dataclass(frozen=True)
class BackupFile:
    """A backup read back and checked whole: its header, its rows as (via, row), its digest."""

    path: Path
    check: Check
    header: dict[str, Any]
    rows: tuple[tuple[str, dict[str, Any]], ...]
    digest: str

    def count(self, via: str) -> int:
        return sum(1 for name, _ in self.rows if name == via)


def read_backup(path: Path) -> BackupFile:
    """Read a backup file and check it is one adminui wrote, whole and unchanged; anything else
    is an InputError naming the file and line."""
    path = path.expanduser()
    try:
        info = path.stat()
    except OSError as error:
        raise InputError("backup", f"can't read {path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError("backup", f"{path} is not a regular file")
    digest = hashlib.sha256()
    records: list[tuple[bytes, Any]] = []
    try:
        with path.open("rb") as handle:
            while line := handle.readline(MAX_LINE + 1):
                if len(line) > MAX_LINE:
                    raise InputError("backup", f"{path} line {len(records) + 1} is too long")
                if not line.endswith(b"\n"):
                    # Every line is written whole with its newline: one without was cut off.
                    raise _cut_short(path, len(records) - 1)
                records.append((line, _parse(path, len(records) + 1, line)))
    except OSError as error:
        raise InputError("backup", f"can't read {path}: {error.strerror}") from None
    header = records[0][1] if records else None
    if not isinstance(header, dict) or "adminui_backup" not in header:
        raise InputError("backup", f"{path} is not an adminui orphan backup")
    if header["adminui_backup"] != FORMAT:
        raise InputError(
            "backup",
            f"{path} was written by an older adminui (format {header['adminui_backup']}), with "
            "no digest to check it against the clean that wrote it; its rows can be put back "
            "by hand (it is JSON lines)",
        )
    # A backup written before packs names no product: Idea Expansion was the only one.
    pack = pack_named(str(header["product"])) if "product" in header else load_pack()
    check = get_check(str(header.get("check")), pack)
    end = records[-1][1]
    if len(records) < 2 or not isinstance(end, dict) or "adminui_backup_end" not in end:
        raise _cut_short(path, len(records) - 1)
    for line, _ in records[:-1]:
        digest.update(line)
    if end.get("sha256") != digest.hexdigest():
        raise InputError("backup", f"{path} does not match its own digest: it was changed")
    keys = {check.name: check.key} | {r.name: r.key for r in orphans.relations(pack)}
    rows = tuple(
        _row(path, n, record, keys) for n, (_, record) in enumerate(records[1:-1], start=2)
    )
    counted: dict[str, int] = {}
    for via, _ in rows:
        counted[via] = counted.get(via, 0) + 1
    if counted != end["adminui_backup_end"]:
        raise InputError("backup", f"{path} holds other rows than its end line counts")
    return BackupFile(path, check, header, rows, end["sha256"])


def _cut_short(path: Path, rows: int) -> InputError:
    return InputError(
        "backup",
        f"{path} is cut short: it ends after {max(rows, 0)} rows with no end line "
        "(a backup killed while it was written); nothing restored",
    )


def _parse(path: Path, number: int, line: bytes) -> Any:
    try:
        return exact_json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("backup", f"{path} line {number} is not UTF-8 text") from None
    except ValueError:
        raise InputError("backup", f"{path} line {number} is not JSON") from None


def _row(path: Path, number: int, record: Any, keys: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """One backed-up row: by a check or relation of the backup's product, with its key."""
    via, row = (record.get("via"), record.get("row")) if isinstance(record, dict) else (0, 0)
    if not isinstance(via, str) or not isinstance(row, dict) or row.get(keys.get(via, "")) is None:
        raise InputError("backup", f"{path} line {number} is not a backed-up row")
    return via, row


def recorded_clean(db: Database, saved: BackupFile) -> dict[str, Any]:
    """The committed clean, in the audit log's intact chain, that wrote this backup of this
    database, and no restore of it since; an InputError otherwise. adminui puts back only what
    a recorded clean removed, once."""
    db = orphans.on(db, saved.check)
    log = audit.verify()
    where = f"{log.path}, backup sha256 {saved.digest[:12]}…"
    if log.broken:
        raise InputError(
            "backup",
            f"the audit log's chain breaks ({log.broken}; {log.path}): a restore is checked "
            "against it, so none is made while it is broken",
        )
    sha = saved.digest
    made = [w for w in log.writes if _of_backup(w, f"orphans.clean {saved.check.name}", sha)]
    committed = [w for w in made if w["outcome"] == "committed"]
    if not committed:
        why = (
            f"its clean's outcome is {made[-1]['outcome'] or 'not recorded'}"
            if made
            else "no clean in the audit log wrote it"
        )
        raise InputError(
            "backup",
            f"{saved.path} can't be restored: {why} ({where}). adminui puts back only rows a "
            "recorded clean removed",
        )
    clean = {**committed[-1], "parts": [w for w in committed if "part" in (w.get("inputs") or {})]}
    if clean.get("host") != db.profile.where:
        raise InputError("backup", f"{saved.path} was cleaned from {clean.get('host')}, not here")
    restores = [
        w
        for w in log.writes
        if _of_backup(w, f"orphans.restore {saved.check.name}", sha)
        and w["outcome"] in ("committed", "unknown", None)
    ]
    if restores:
        last = restores[-1]
        raise InputError(
            "backup",
            f"{saved.path} was restored already ({last.get('time')}, by {last.get('operator')}, "
            f"outcome {last['outcome'] or 'not recorded'}); a backup is put back once",
        )
    return clean


def _of_backup(write: dict[str, Any], operation: str, digest: str) -> bool:
    return (
        write.get("operation") == operation
        and (write.get("inputs") or {}).get("backup_sha256") == digest
    )


@dataclass(frozen=True)
class RestoreResult:
    check: Check
    restored: int
    refused: tuple[str, ...]  # ids whose row exists already (or, relinking, is gone or changed)
    money: dict[str, str]  # the money columns of the rows put back, summed
    warning: str | None = None


def restore(
    db: Database,
    saved: BackupFile,
    operator: str,
    progress: Progress | None = None,
) -> RestoreResult:
    """Put a backup's rows back in one audited transaction, the check's rows first, then the
    dependents parents first: reinsert deleted rows, or put a nulled reference back. A row
    whose id exists already (or, relinking, is gone or changed) is refused."""
    check = saved.check
    if not check.restorable:
        reason = (
            f"adminui never reads {check.table}' secret values, so the backup can't recreate them"
            if check.secret
            else "that clean created rows and deleted nothing"
        )
        raise InputError("backup", f"a {check.name} backup can't be restored: {reason}")
    if check.pack is not None and check.pack.name != db.pack.name:
        raise InputError("backup", f"it is a backup of {check.pack.title}, not of {db.pack.title}")
    db = orphans.on(db, check)
    if saved.header.get("dialect") != db.dialect:
        raise InputError("backup", f"it was written from a {saved.header.get('dialect')} database")
    clean = recorded_clean(db, saved)
    rows = _removed(saved, clean["parts"])
    calls = [_restore_call(db, check, via, row) for via, row in rows]
    operation = f"orphans.restore {check.name}"

    def written(counts: list[int]) -> Written[RestoreResult]:
        """What the restore did, from each row's count (0: refused, its row is there)."""
        refused: list[str] = []
        put_back: dict[str, list[dict[str, Any]]] = {}
        keys: dict[str, str] = {}  # table -> its key column
        for (via, row), acted in zip(rows, counts, strict=True):
            table, _, key = _restoring(check, via)
            keys[table] = key
            if acted:
                put_back.setdefault(table, []).append(row)
            else:
                refused.append(str(row[key]))
        money = _money(db.pack, put_back)
        restored = sum(map(len, put_back.values()))
        return Written(
            RestoreResult(check, restored, tuple(refused), money),
            {"check": check.name, "backup": str(saved.path), "backup_sha256": saved.digest},
            {
                table: listed_ids(tuple(str(r[keys[table]]) for r in rows))
                for table, rows in put_back.items()
            },
            {"cleaned_by": clean.get("operator"), "cleaned_at": clean.get("time")},
            {"restored": restored, "refused": refused[:1000], "money": money},
        )

    if not db.holds_transactions:  # D1: one request, each row's statement guarding itself
        planned = written([1] * len(calls))
        batch = Batch(
            calls,
            planned.inputs,
            planned.ids,
            planned.before,
            planned.after,
            lambda replies: written([reply.count for reply in replies]).result,
            lambda done: (
                f"restored {done.restored}, refused {list(done.refused[:1000])}, money {done.money}"
            ),
        )
        result, warning = audited_batch(db, operator, operation, batch, None)
        return replace(result, warning=warning)

    def body(tx: Transaction) -> Written[RestoreResult]:
        counts = []
        for done, (name, values) in enumerate(calls, start=1):
            counts.append(tx.run(name, **values))
            if progress and (done % orphans.PAGE == 0 or done == len(calls)):
                progress(done, len(calls))
        return written(counts)

    result, warning = audited_write(db, operator, operation, body, None)
    return replace(result, warning=warning)


def _removed(
    saved: BackupFile, parts: list[dict[str, Any]]
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The backup's rows its recorded clean removed: all of them, where the clean was one
    transaction; where it went in batches (D1), those of its committed batches: the check's
    rows its batches' audit lines name, and the rows that pointed at rows kept (the backup
    lists a relation's parents before it). A batch not committed removed nothing."""
    if not parts:
        return saved.rows
    check = saved.check
    kept: dict[str, set[str]] = {
        check.table: {str(key) for part in parts for key in part["ids"][check.table]}
    }
    removed = []
    for via, row in saved.rows:
        if via == check.name:
            table, key, parent, column = check.table, check.key, None, None
        else:
            relation = get_relation(via, check.pack)
            table, key = relation.table, relation.key
            parent, column = relation.parent, relation.column
        if parent is not None and str(row[column]) in kept.get(parent, set()):
            kept.setdefault(table, set()).add(str(row[key]))
        if str(row[key]) in kept.get(table, set()):
            removed.append((via, row))
    return tuple(removed)


def _restore_call(db: Database, check: Check, via: str, row: dict[str, Any]) -> tuple[str, dict]:
    """The statement that puts one backed-up row back, with its values."""
    _, name, key = _restoring(check, via)
    columns = db.statement(name).params
    if not columns <= set(row):
        missing = ", ".join(sorted(columns - set(row)))
        raise InputError("backup", f"row {row[key]} lacks {missing}; nothing restored")
    return name, {column: _bindable(row[column]) for column in columns}


def _restoring(check: Check, via: str) -> tuple[str, str, str]:
    """(table, statement, key column) that puts one backed-up row back."""
    if via == check.name:
        table, deletes, key = check.table, check.action == "delete", check.key
        relink = check.statement("relink")
    else:
        relation = get_relation(via, check.pack)
        table, deletes, key = relation.table, relation.deletes, relation.key
        relink = relation.statement("relink")
    return table, f"orphans_reinsert_{table}" if deletes else relink, key


def _money_columns(pack: Pack) -> dict[str, tuple[str, ...]]:
    """The money columns of each table, as the pack's manifest names them: summed into the
    restore's audit line."""
    return {name: table.money for name, table in pack.tables.items() if table.money}


def _money(pack: Pack, put_back: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    return {
        f"{table}.{column}": str(sum(Decimal(str(row[column] or 0)) for row in rows))
        for table, columns in _money_columns(pack).items()
        for column in columns
        if (rows := put_back.get(table))
    }


def _bindable(value: Any) -> Any:
    """JSON values (jsonb, text[]) go back as exact JSON text; the SQL casts them."""
    return exact_json.dumps(value) if isinstance(value, dict | list) else value
