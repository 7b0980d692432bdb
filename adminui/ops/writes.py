"""One audited write: the transaction, its audit lines, and what to do when COMMIT's reply is lost.

Every write of the ops layer goes through `audited_write`, which keeps the safety rules 3, 5 and
6 of DESIGN.md in one place:

- the operation's statements run in one transaction (`body`), which ends by reading back what it
  wrote; then the transaction's id is read and the audit **intent** line is fsynced, *before*
  COMMIT (a log that can't be written rolls the write back);
- after COMMIT the **outcome** line: committed, or rolled back (with why);
- where no transaction can be held open (D1's API), `audited_batch`: the intent line first,
  then the write as one batch of statements that guard themselves, then the outcome, read
  off the batch's own replies; a reply lost is looked up by the write's ids;
- if the connection is lost while committing (or Ctrl-C stops the wait), the outcome is not
  guessed: the transaction's status is asked on a new connection (PostgreSQL's pg_xact_status,
  retried while the database is away, for up to SETTLE_SECONDS) and the write is looked up by
  its ids. If the server restarted since (a crash, a failover), the status may be another
  transaction's, which got the lost one's id: then only the look-up counts. Committed is said
  when the database shows the write; rolled back only when its status says so, or when after a
  restart the write is not there; anything else is an unknown outcome (exit 3), with the ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from adminui import audit
from adminui.db import Database, Reply, Transaction, TransactionMark
from adminui.errors import (
    AdminError,
    DatabaseError,
    InputError,
    NotFoundError,
    OutcomeUnknownError,
    SetupError,
)

Result = TypeVar("Result")
# How long a lost COMMIT is asked about before its outcome is reported as unknown.
SETTLE_SECONDS = 30.0
_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0)
# Reads a write back by its ids on a new connection: its result as stored, or None if absent.
LookUp = Callable[[Database, Result], Result | None]


@dataclass(frozen=True)
class Written(Generic[Result]):
    """What a write did inside its transaction: the operation's result as read back, and what
    its audit line records (the operator's inputs, the ids written, the totals around it)."""

    result: Result
    inputs: dict[str, Any]
    ids: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class Batch(Generic[Result]):
    """A write as one batch of statements that guard themselves: its calls, what its audit
    intent records (the operator's inputs, the ids it will write, the totals the preview
    showed and those it should leave), and how its replies become the result read back (an
    AdminError when a guard held it back: then nothing was changed)."""

    calls: list[tuple[str, dict[str, Any]]]
    inputs: dict[str, Any]
    ids: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    result: Callable[[list[Reply]], Result]
    # What the outcome line adds, from the result, where the intent could only plan it.
    detail: Callable[[Result], str] | None = None


def audited_batch(
    db: Database,
    operator: str,
    operation: str,
    batch: Batch[Result],
    look_up: Callable[[Database], Result | None] | None,
    check: Callable[[], None] | None = None,
) -> tuple[Result, str | None]:
    """Run `batch` with its audit lines: the intent (fsynced) before it is sent, since the
    batch commits as it runs; then the outcome its replies tell. A reply that never came (lost,
    or Ctrl-C while it was awaited) is `look_up`'s to tell: the write read back by its ids
    (None: not there); no look_up, nothing to read it back by: unknown. `check` (of the audit
    log) runs with the intent, alone on this machine: no other write can log in between."""
    with audit.checked_alone():
        if check is not None:
            check()
        started = _intent(db, operator, operation, batch, None)
    try:
        replies = db.batch(batch.calls)
    except OutcomeUnknownError as lost:
        return _look_up_batch(db, started, batch, look_up, str(lost))
    except KeyboardInterrupt:
        stopped = f"Interrupted while {db.profile.where} had the {operation}'s batch."
        return _look_up_batch(db, started, batch, look_up, stopped)
    except BaseException as error:  # refused before it ran, or rolled back whole
        audit.outcome(started, "rolled back", str(error) or type(error).__name__)
        raise
    try:
        result = batch.result(replies)
    except (InputError, NotFoundError) as held_back:  # a guard held the batch back: no change
        audit.outcome(started, "rolled back", str(held_back))
        raise
    except Exception as odd:  # after it committed: what it left is not what it should
        audit.outcome(started, "unknown", f"committed, then read back as: {odd}")
        raise
    return result, audit.outcome(started, "committed", batch.detail and batch.detail(result))


def _intent(
    db: Database,
    operator: str,
    operation: str,
    what: Written[Any] | Batch[Any],
    mark: TransactionMark | None,
) -> audit.Intent:
    """The write's intent line, fsynced: what it records, and its transaction where known."""
    return audit.intent(
        db.profile,
        operator,
        operation,
        inputs=what.inputs,
        ids=what.ids,
        before=what.before,
        after=what.after,
        xid=mark.xid if mark else None,
        server_started=mark.server_started if mark else None,
    )


def _look_up_batch(
    db: Database,
    started: audit.Intent,
    batch: Batch[Result],
    look_up: Callable[[Database], Result | None] | None,
    lost: str,
) -> tuple[Result, str | None]:
    """After a batch's reply was lost: the write read back by its ids. Found, it committed;
    not found, it is still unknown (the database may yet be running it), as it is when the
    write has nothing to read it back by."""
    found, seen = None, "There is nothing to read it back by (no row records it)"
    if look_up is not None:
        try:
            found, seen = look_up(db), "Read back since, it is not in the database yet"
        except AdminError as error:
            seen = f"Reading it back failed ({error})"
    if found is not None:
        warning = audit.outcome(started, "committed", "reply lost; read back")
        told = f"{lost} Read back since, the {started.operation} is there (shown here)."
        return found, told if warning is None else f"{told} {warning}"
    audit.outcome(started, "unknown", f"reply lost; {seen}")
    ids = ", ".join(f"{key} {value}" for key, value in batch.ids.items() if value)
    raise OutcomeUnknownError(
        f"{lost} {seen} ({ids}); the database may have applied it: look before trying again. "
        "The audit log has its intent line."
    ) from None


def audited_write(
    db: Database,
    operator: str,
    operation: str,
    body: Callable[[Transaction], Written[Result]],
    look_up: LookUp[Result] | None,
) -> tuple[Result, str | None]:
    """Run `body` in one write transaction with its audit lines; the result and a warning for
    the operator (None when all went as planned). `look_up` reads the write back on a new
    connection after a lost COMMIT reply: the result as the database holds it, or None when
    the write is not there (no look_up: the write can't be read back by its ids)."""
    started: audit.Intent | None = None
    try:
        with db.write() as tx:
            written = body(tx)
            mark = tx.transaction_id()
            started = _intent(db, operator, operation, written, mark)
    except OutcomeUnknownError:
        assert started is not None  # only COMMIT raises it, after the intent line
        return _settle(db, started, written, mark, look_up)
    except BaseException as error:
        if started is not None:  # the intent is on disk: say it did not happen
            audit.outcome(started, "rolled back", str(error) or type(error).__name__)
        raise
    return written.result, audit.outcome(started, "committed")


def _settle(
    db: Database,
    started: audit.Intent,
    written: Written[Result],
    mark: TransactionMark | None,
    look_up: LookUp[Result] | None,
) -> tuple[Result, str | None]:
    """After a lost COMMIT reply: ask the database what became of the transaction."""
    status = _ask_status(db, mark)
    found, seen = _read_back(db, written.result, look_up, status)
    where, operation = db.profile.where, started.operation
    if found is not None:
        warning = audit.outcome(started, "committed", f"reply to COMMIT lost; checked: {seen}")
        told = (
            f"The connection to {where} was lost while committing; asked again on a new "
            f"connection, the database shows the {operation} committed (shown here)."
        )
        return found, told if warning is None else f"{told} {warning}"
    if status == "aborted" or (status == "restarted" and seen == "not in the database"):
        audit.outcome(started, "rolled back", f"reply to COMMIT lost; checked: {seen}")
        raise DatabaseError(
            f"The connection to {where} was lost while committing; asked again, the database "
            f"shows it was not committed ({seen}): nothing was changed, the {operation} can be "
            "tried again."
        )
    audit.outcome(started, "unknown", f"reply to COMMIT lost; checked: {seen}")
    ids = ", ".join(f"{key} {value}" for key, value in written.ids.items() if value)
    raise OutcomeUnknownError(
        f"The connection to {where} was lost while committing, and the database could not "
        f"tell ({seen}): the {operation} ({ids}; transaction {mark.xid if mark else None}) may "
        "or may not be committed. Look it up before trying again; the audit log has its intent "
        "line."
    )


def _read_back(
    db: Database, result: Result, look_up: LookUp[Result] | None, status: str | None
) -> tuple[Result | None, str]:
    """The write as the database shows it (None: not shown), and what was seen, in words."""
    if status == "committed" and look_up is None:
        return result, "committed"  # the same server: the id is this transaction's
    if status not in ("committed", "restarted") or look_up is None:
        return None, {"aborted": "rolled back", "restarted": "server restarted"}.get(
            str(status), f"status {status}"
        )
    try:
        found = look_up(db, result)
    except Exception as error:  # the database can't show it: the outcome stays unknown
        return None, f"status {status}; could not read the write back ({error})"
    if found is not None:
        return found, "committed and read back" if status == "committed" else "read back"
    if status == "restarted":
        return None, "not in the database"
    return None, "said committed, yet not in the database"


def _ask_status(db: Database, mark: TransactionMark | None) -> str | None:
    """The transaction's status, asked until it is known or SETTLE_SECONDS pass (the database
    may be restarting, or the old connection's backend still finishing its COMMIT)."""
    if mark is None:
        return None
    deadline = time.monotonic() + SETTLE_SECONDS
    pauses = iter(_POLL_SECONDS)
    while True:
        try:
            status = db.transaction_status(mark)
        except (DatabaseError, SetupError):
            status = "in progress"  # the database is away: ask again
        if status != "in progress":
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(next(pauses, _POLL_SECONDS[-1]))
