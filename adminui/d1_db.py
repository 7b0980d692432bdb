"""A D1 database reached over Cloudflare's HTTP API (d1://ACCOUNT_ID/DATABASE_ID), served as the
database layer serves a SQLite file: the same packs, the same vetted SQLite statements by name,
the same Transaction calls, each request one atomic unit (d1_api.py).

What differs, and why:
- A read transaction's statements go in as few requests as its calls allow: `many` and
  `read_many` send theirs in one batch (D1 runs a batch as one transaction: consistent); two
  calls are two requests, each consistent on its own. D1 can't make a request read-only on its
  side: the statement's vetted mode is checked before sending (a write is refused inside a
  read), and a D1 Read API token is the server's guard.
- There is no interactive transaction, so the ops' write transactions (read, decide, write,
  read back, all under one lock) can't run here: a write is one `batch` of statements that
  guard themselves (a write whose preview no longer holds changes nothing), sent as one
  request (OmniChat's grant and refund, filepath's adjustment, a chunk of an orphan clean, a
  restore). `write()` is refused before anything is sent, saying so: a write not built as a
  batch would need a transaction held open.
- Nothing streams: a result comes whole, so large results are read a keyset page at a time.
- Esc can't stop a request on D1's side: a read's answer is dropped when it comes (D1 ends
  any query at 30 s); a write's never is, since it may have committed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from adminui.d1_api import D1Client, api_base
from adminui.db import (
    CancelledError,
    Database,
    Reply,
    Transaction,
    check_values,
    sqlite_values,
)
from adminui.errors import DatabaseError, SetupError
from adminui.packs import recognise

NOT_A_BATCH = (
    "this change is not built for D1's HTTP API yet: D1 has no transaction to hold open, so "
    "each write must become one batch that guards itself (grants, refunds, adjustments and "
    "orphan cleans and restores are)"
)


class D1Transaction(Transaction):
    """Statements sent over the API: one request per call, one batch for `many`."""

    def __init__(self, db: D1Database, running_as: object, *, writable: bool) -> None:
        super().__init__(db, None, writable=writable)  # type: ignore[arg-type]
        self.running_as = running_as  # its mark among the database's running ones

    def _send(
        self, calls: Sequence[tuple[str, Mapping[str, Any]]], *, commit: bool = False
    ) -> list[Reply]:
        self._refuse_if_over()
        if not calls:
            return []
        sent = []
        for name, values in calls:
            statement = self._db.statement(name)
            check_values(statement, values, writable=self.writable)
            sql, names = statement.numbered
            bound = sqlite_values(values)
            sent.append((statement, sql, [bound[n] for n in names]))
        db: D1Database = self._db  # type: ignore[assignment]
        with self._failing(", ".join(f"'{name}'" for name, _ in calls)):
            results = db.request([(sql, values) for _, sql, values in sent], self)
        return [
            Reply(r.rows, len(r.rows) if r.rows or s.mode == "read" else r.changes)
            for (s, _, _), r in zip(sent, results, strict=True)
        ]

    def run_many(self, name: str, params: Sequence[Mapping[str, Any]]) -> None:
        if params:
            self._send([(name, p) for p in params])

    def stream(self, name: str, /, **params: Any) -> Iterator[Any]:
        """The rows of a statement: D1 sends a result whole (page large ones by keyset)."""
        yield from self.rows(name, **params)

    def transaction_id(self) -> None:
        """D1 has no transaction ids: a write is one request, its reply is its outcome."""
        return None


class D1Database(Database):
    """One D1 database over the API, for one profile; the API token is its password."""

    batches_reads = True
    holds_transactions = False

    def write(self) -> Any:
        """Refused: a transaction held open is what D1's API has not (see batch)."""
        if self.read_only:
            raise self.read_only_refusal("this change was not made")
        raise SetupError(f"Not sent to {self.profile.where}: {NOT_A_BATCH}.")

    def _open(self, url: Any, *, create: bool) -> None:
        if not self._password:
            raise SetupError(
                f"No Cloudflare API token for {self.profile.where}: set it with 'adminui "
                f"password set {self.profile.name}' or ADMINUI_PASSWORD."
            )
        token = self._password
        if not token.isascii() or not token.isprintable():
            raise SetupError(
                "The Cloudflare API token holds characters no token has (printable ASCII "
                "only): copy it again from the Cloudflare dashboard."
            )
        self.api = D1Client(url.host, url.database, token, api_base(self.profile.d1_api))
        self._read_engine = self._write_engine = None  # type: ignore[assignment]

    def check(self, *, recognise_pack: bool = False) -> None:
        """With `recognise_pack`, one request for the tables the product is recognised from
        (a wrong token, account or database id is told then). A product named asks nothing:
        there is no connection to open, and the first read's request is checked as any is,
        so a command's work costs no request more than it needs."""
        if recognise_pack:
            found = self.read_many([("live_tables", {})])
            self.use_pack(recognise({r["table_name"] for r in found[0]}, self.profile.where))

    @contextmanager
    def _transaction(self, engine: Any, *, writable: bool) -> Iterator[Transaction]:
        mark = object()  # this transaction, for cancel_running
        with self._lock:
            self._running.add(mark)
        try:
            tx = D1Transaction(self, mark, writable=writable)
            yield tx
            if tx.failed:
                raise DatabaseError(
                    f"{tx.failed} failed, so nothing of its transaction was committed."
                )
        finally:
            with self._lock:
                self._running.discard(mark)
                self._cancelled.discard(mark)

    def request(self, statements: list[tuple[str, list[Any]]], tx: D1Transaction) -> list[Any]:
        """One request of `tx`: its results, or, for a read, CancelledError when Esc was
        pressed meanwhile. A write's answer is never dropped: it may have committed."""
        results = self.api.query(statements, writing=tx.writable)
        if not tx.writable and self._was_cancelled(tx.running_as):
            raise CancelledError("Stopped at your request; its answer was dropped.")
        return results

    def cancel_running(self) -> int:
        """Mark every request under way as stopped: a read's answer is dropped when it comes;
        a write's is not (it may have committed: the write goes on to say what it did)."""
        with self._lock:
            self._cancelled.update(self._running)
            return len(self._running)

    def run_script(self, script: str) -> None:
        raise SetupError(f"{self.profile.where} is the product's: adminui runs no script there.")

    def transaction_status(self, mark: Any) -> None:
        return None

    def dispose(self) -> None:
        self.api.close()
