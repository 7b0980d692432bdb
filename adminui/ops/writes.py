"""One audited write: the transaction, its audit lines, and what to do when COMMIT's reply is lost.

Every write of the ops layer goes through `audited_write`, which keeps the safety rules 3, 5 and
6 of DESIGN.md in one place:

- the operation's statements run in one transaction (`body`), which ends by reading back what it
  wrote; then the transaction's id is read and the audit **intent** line is fsynced, *before*
  COMMIT (a log that can't be written rolls the write back);
- after COMMIT the **outcome** line: committed, or rolled back (with why);
- if the connection is lost while committing, the outcome is not guessed: the transaction's
  status is asked on a new connection (PostgreSQL's pg_xact_status, retried while the database
  is away, for up to SETTLE_SECONDS), the write is looked up, and the operator is told what the
  database holds. Only when it can't be asked is the outcome reported as unknown (exit 3), with
  the ids to check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from adminui import audit
from adminui.db import Database, Transaction
from adminui.errors import AdminError, DatabaseError, OutcomeUnknownError, SetupError

Result = TypeVar("Result")
# How long a lost COMMIT is asked about before its outcome is reported as unknown.
SETTLE_SECONDS = 30.0
_POLL_SECONDS = (0.2, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Written(Generic[Result]):
    """What a write did inside its transaction: the operation's result as read back, and what
    its audit line records (the operator's inputs, the ids written, the totals around it)."""

    result: Result
    inputs: dict[str, Any]
    ids: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]


def audited_write(
    db: Database,
    operator: str,
    operation: str,
    body: Callable[[Transaction], Written[Result]],
    look_up: Callable[[Database, Result], Result],
) -> tuple[Result, str | None]:
    """Run `body` in one write transaction with its audit lines; the result and a warning for
    the operator (None when all went as planned). `look_up` reads the result back on a new
    connection after a lost COMMIT reply found the write committed."""
    started: audit.Intent | None = None
    try:
        with db.write() as tx:
            written = body(tx)
            xid = tx.transaction_id()
            started = audit.intent(
                db.profile,
                operator,
                operation,
                inputs=written.inputs,
                ids=written.ids,
                before=written.before,
                after=written.after,
                xid=xid,
            )
    except OutcomeUnknownError:
        assert started is not None  # only COMMIT raises it, after the intent line
        return _settle(db, started, written, xid, look_up)
    except BaseException as error:
        if started is not None:  # the intent is on disk: say it did not happen
            audit.outcome(started, "rolled back", str(error) or type(error).__name__)
        raise
    return written.result, audit.outcome(started, "committed")


def _settle(
    db: Database,
    started: audit.Intent,
    written: Written[Result],
    xid: str | None,
    look_up: Callable[[Database, Result], Result],
) -> tuple[Result, str | None]:
    """After a lost COMMIT reply: ask the database what became of the transaction."""
    status = _ask_status(db, xid)
    where = db.profile.where
    if status == "committed":
        try:
            result = look_up(db, written.result)
        except AdminError:  # committed is known; the read-back is a courtesy
            result = written.result
        warning = audit.outcome(started, "committed", "reply to COMMIT lost; checked: committed")
        told = (
            f"The connection to {where} was lost while committing; asked again on a new "
            f"connection, the database says the {started.operation} is committed (shown here)."
        )
        return result, told if warning is None else f"{told} {warning}"
    if status == "aborted":
        audit.outcome(started, "rolled back", "reply to COMMIT lost; checked: aborted")
        raise DatabaseError(
            f"The connection to {where} was lost while committing; asked again, the database "
            f"says the transaction was rolled back: nothing was changed, the {started.operation} "
            "can be tried again."
        )
    audit.outcome(started, "unknown", f"reply to COMMIT lost; status not known ({status})")
    ids = ", ".join(f"{key} {value}" for key, value in written.ids.items() if value)
    raise OutcomeUnknownError(
        f"The connection to {where} was lost while committing, and the database could not "
        f"tell since: the {started.operation} ({ids}; transaction {xid}) may or may not be "
        "committed. Look it up before trying again; the audit log has its intent line."
    )


def _ask_status(db: Database, xid: str | None) -> str | None:
    """The transaction's status, asked until it is known or SETTLE_SECONDS pass (the database
    may be restarting, or the old connection's backend still finishing its COMMIT)."""
    if xid is None:
        return None
    deadline = time.monotonic() + SETTLE_SECONDS
    pauses = iter(_POLL_SECONDS)
    while True:
        try:
            status = db.transaction_status(xid)
        except (DatabaseError, SetupError):
            status = "in progress"  # the database is away: ask again
        if status != "in progress":
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(next(pauses, _POLL_SECONDS[-1]))
