"""The audit log: every write leaves its lines in a JSON-lines file in the platform state dir,
chained by hash so that an edited, removed or inserted line shows.

A write is recorded twice. Its **intent** line (who, what, where, the inputs, the ids it wrote, the
totals before and after as read inside the transaction, the transaction's id and its server's
start time) is appended and
fsynced *before* COMMIT: if it can't be written, the write is rolled back, so no committed write
is ever without a line, whatever happens after (a crash, a stalled disk, a lost reply). Its
**outcome** line follows: committed, rolled back, or unknown (the reply to COMMIT was lost and
the database could not be asked). An intent with no outcome is a write whose end nobody saw:
`adminui audit verify` lists them for the operator to check.

Each line carries `prev`, the SHA-256 of the line before it (of the first line: 64 zeros), and
appends hold an exclusive lock on the file, so concurrent adminui processes keep one chain.
Lines written before the chain existed (no `prev`) are counted as unchained, never trusted.
The chain shows tampering by anyone who does not rewrite every later line; it can't show the
last lines cut off the end (compare the head hash `verify` prints with one noted earlier).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from adminui.config import APP_NAME, Profile
from adminui.errors import AdminError
from adminui.output import json_value

AUDIT_ENV = "ADMINUI_AUDIT_LOG"
GENESIS = "0" * 64
# The last line is read back from the end of the file in chunks of this size.
_TAIL_CHUNK = 64 * 1024


class AuditError(AdminError):
    """The audit log can't be written: the write it was for did not happen."""

    exit_code = 2


def audit_path() -> Path:
    """$ADMINUI_AUDIT_LOG, else audit.jsonl in the platform state dir."""
    if os.environ.get(AUDIT_ENV):
        return Path(os.environ[AUDIT_ENV]).expanduser()
    return platformdirs.user_state_path(APP_NAME) / "audit.jsonl"


@contextmanager
def checked_alone() -> Iterator[None]:
    """While held, no other adminui process or thread of this machine holds it: for a check
    of the log that must not be overtaken before its intent line is written (a write with no
    transaction to serialize it, whose record is the log: filepath's adjustment over D1)."""
    path = audit_path().with_name(audit_path().name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def line_hash(line: bytes) -> str:
    """The hash the next line carries as `prev`: SHA-256 of the line without its newline."""
    return hashlib.sha256(line).hexdigest()


@dataclass(frozen=True)
class Intent:
    """A write's intent line, once it is on disk: what its outcome line refers to."""

    write: str
    operation: str
    path: Path


def intent(
    profile: Profile,
    operator: str,
    operation: str,
    *,
    inputs: dict[str, Any],
    ids: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
    xid: str | None,
    server_started: str | None = None,
) -> Intent:
    """Append and fsync the intent line of a write about to be committed; AuditError if the
    log can't be written (the caller's transaction then rolls back)."""
    write = str(uuid.uuid4())
    entry = {
        "entry": "intent",
        "write": write,
        "operator": operator,
        "profile": profile.name,
        "host": profile.where,
        "operation": operation,
        "inputs": inputs,
        "ids": ids,
        "before": before,
        "after": after,
        "xid": xid,
        "server_started": server_started,
    }
    try:
        path = _append(entry)
    except OSError as error:
        raise AuditError(
            f"The audit log {audit_path()} can't be written "
            f"({error.strerror or error}); the {operation} was rolled back, nothing was changed."
        ) from None
    return Intent(write, operation, path)


def outcome(written: Intent, result: str, detail: str | None = None) -> str | None:
    """Append the outcome line of a write (`committed`, `rolled back` or `unknown`). The write
    is over whatever happens here: a failure is returned as a warning, never raised."""
    entry = {
        "entry": "outcome",
        "write": written.write,
        "operation": written.operation,
        "outcome": result,
        **({"detail": detail} if detail else {}),
    }
    try:
        _append(entry)
    except OSError as error:
        return (
            f"The {written.operation} was {result}, but its outcome line could not be added to "
            f"{written.path} ({error.strerror or error}); its intent line (write {written.write}) "
            "stands for it."
        )
    return None


def _append(entry: dict[str, Any]) -> Path:
    """Append one chained line under an exclusive lock, flushed and fsynced; the file's path."""
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        last = _last_line(fd, size)
        torn = size > 0 and not _ends_with_newline(fd, size)
        stamped = {"prev": GENESIS if last is None else line_hash(last), **entry}
        stamped["time"] = datetime.now(UTC).isoformat()
        text = json.dumps(json_value(stamped), ensure_ascii=False, sort_keys=True)
        # A torn last line (a crash mid-append) is closed off, not continued: verify names it.
        data = (b"\n" if torn else b"") + text.encode() + b"\n"
        try:
            written = 0
            while written < len(data):  # a nearly full disk writes what fits
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)  # never half a line: the log stays as it was
            raise
    finally:
        os.close(fd)  # releases the lock
    if size == 0:
        fsync_dir(path.parent)
    return path


def _ends_with_newline(fd: int, size: int) -> bool:
    return os.pread(fd, 1, size - 1) == b"\n"


def _last_line(fd: int, size: int) -> bytes | None:
    """The file's last line, without its newline, read back from the end."""
    if size == 0:
        return None
    end = size
    if _ends_with_newline(fd, size):
        end -= 1
    start = end
    while start > 0:
        chunk_start = max(0, start - _TAIL_CHUNK)
        chunk = os.pread(fd, start - chunk_start, chunk_start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            start = chunk_start + newline + 1
            break
        start = chunk_start
    return os.pread(fd, end - start, start)


def fsync_dir(path: Path) -> None:
    """Make a new file's directory entry durable (fsync of the directory)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Verified:
    """What `verify` found: the first broken line (None: the chain holds), the head hash, lines
    written before the chain began, and the writes of the chained lines up to any break (each
    its intent with `outcome` and `outcome_detail`; `outcome` None while none is recorded)."""

    path: Path
    lines: int = 0
    unchained: int = 0
    broken: str | None = None
    head: str = GENESIS
    writes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open_writes(self) -> list[dict[str, Any]]:
        """Writes whose outcome was never recorded (a crash, a log that stopped taking lines)."""
        return [write for write in self.writes if write["outcome"] is None]

    @property
    def unknown(self) -> list[dict[str, Any]]:
        """Writes whose COMMIT reply was lost and whose outcome the database could not tell."""
        return [write for write in self.writes if write["outcome"] == "unknown"]


def verify(path: Path | None = None) -> Verified:
    """Check the chain line by line; stop at the first line that breaks it, naming it. Only
    chained lines count as writes: a line without `prev` is trusted nowhere."""
    path = path or audit_path()
    found = Verified(path)
    merged: dict[str, dict[str, Any]] = {}
    prev: bytes | None = None
    for number, line in enumerate(_raw_lines(path), start=1):
        found.lines = number
        entry = _record(line)
        if entry is None:
            found.broken = f"line {number} is not a complete JSON record (a torn or edited line)"
            break
        expected = GENESIS if prev is None else line_hash(prev)
        if "prev" not in entry and found.lines - 1 == found.unchained:
            found.unchained += 1  # written before the chain existed
        elif entry.get("prev") != expected:
            found.broken = (
                f"line {number} does not follow line {number - 1}: a line at or before it "
                "was changed, removed or inserted"
                if number > 1
                else "line 1 does not start a chain: lines before it were removed"
            )
            break
        else:
            _merge(merged, entry)
        prev = line
    found.head = GENESIS if prev is None else line_hash(prev)
    found.writes = list(merged.values())
    return found


def _merge(merged: dict[str, dict[str, Any]], entry: dict[str, Any]) -> None:
    """Add one chained line to the writes: an intent starts one, an outcome ends it."""
    write = str(entry.get("write"))
    if entry.get("entry") == "intent":
        merged[write] = {**entry, "outcome": None, "outcome_detail": None}
    elif entry.get("entry") == "outcome" and write in merged:
        merged[write].update(outcome=entry.get("outcome"), outcome_detail=entry.get("detail"))


def writes(path: Path | None = None) -> list[dict[str, Any]]:
    """The writes of the log's chained lines, up to any break (see Verified.writes)."""
    return verify(path).writes


def _raw_lines(path: Path) -> Iterator[bytes]:
    if not path.is_file():
        return
    with path.open("rb") as handle:
        for line in handle:
            yield line.removesuffix(b"\n")


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return entry if isinstance(entry, dict) else None
