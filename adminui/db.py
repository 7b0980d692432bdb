"""Engines, transactions, read-only mode and timeouts: the only module that talks to a driver.

Every statement comes from the registry by name and runs inside a transaction this module opens:
`db.read()` is read-only on the database's side too (PostgreSQL `BEGIN READ ONLY`, SQLite
`PRAGMA query_only`), so a mislabelled write fails instead of writing; `db.write()` is the one
way to change data and is refused up front on a read-only profile. Session state is set per
transaction, never per session, so a transaction pooler can't leak it to other clients.
Driver errors become one-sentence AdminErrors here, naming host and port, never the password.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, RowMapping, create_engine, event
from sqlalchemy import exc as sa_exc

from adminui import fold
from adminui.config import URL_PROFILE, Profile
from adminui.errors import (
    DatabaseError,
    InputError,
    OutcomeUnknownError,
    ReadOnlyError,
    SetupError,
)
from adminui.exact_json import loads as exact_json_loads
from adminui.packs import MAIN, Pack, load_pack, packs, recognise
from adminui.queries import Registry, Statement

# Connection settings of the SQLite driver (PRAGMAs, not queries), applied on connect.
_SQLITE_SETUP = ("PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000")
_SQLITE_QUERY_ONLY = "PRAGMA query_only = ON"
# TCP keepalive on every PostgreSQL connection (libpq's keepalives_* options, in seconds): an
# idle pooled connection keeps its place in NATs and firewalls, and one whose server went away
# is found dead by the kernel, not by the next statement waiting; one whose sent bytes go
# unacknowledged for 30 s (a network gone mid-statement) is closed, not waited on for ever. No
# ping before use: that is a round trip per transaction; a read that finds its connection
# dropped is retried once instead.
KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}
# The mark of a pooled PostgreSQL connection whose starting search_path is not checked yet.
UNCHECKED_PATH = "adminui_unchecked_path"
# CURRENT_TIMESTAMP's form: the SQLite schema keeps every time as UTC text in it.
SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
# libpq's environment forms of the URL keys config.OUTSIDE_SETTINGS refuses, and why each is.
OUTSIDE_ENVIRONMENT = {
    "PGOPTIONS": "PGOPTIONS is set; it changes every session's settings (search_path among "
    "them) from outside, so adminui does not connect with it: unset it.",
    "PGSERVICE": "PGSERVICE is set; it names a pg_service.conf entry whose options could change "
    "the session's settings (search_path among them) from outside: unset it and give host, port "
    "and database in the URL.",
}
# One schema of a search_path setting: "quoted" (with "" for a quote) or bare.
_PATH_ITEM = re.compile(r'"((?:[^"]|"")*)"|([^\s,]+)')
# Where a session's search_path was set (pg_settings.source), as the operator would undo it.
_PATH_SOURCES = {
    "user": "ALTER ROLE … SET search_path",
    "database": "ALTER DATABASE … SET search_path",
    "database user": "ALTER ROLE … IN DATABASE … SET search_path",
    "configuration file": "the server's configuration (postgresql.conf or ALTER SYSTEM)",
    "client": "the connection's startup options",
}


class CancelledError(DatabaseError):
    """The operator stopped a running statement (cancel_running); its transaction rolled back."""


class ConnectionLostError(DatabaseError):
    """The connection broke during a statement; nothing of an open transaction was kept."""


class DroppedConnectionError(ConnectionLostError):
    """The connection was found broken before the server answered anything of the transaction
    (dropped while it waited in the pool): whatever was sent did not run."""


@dataclass(frozen=True)
class TransactionMark:
    """Which transaction a write was: its id, and when the server it ran on started (after a
    crash the server may give a lost transaction's id to another one)."""

    xid: str
    server_started: str


@dataclass(frozen=True)
class Reply:
    """What one statement gave: its rows (as mappings; none for a bare write) and how many rows
    it returned or touched."""

    rows: list[Any]
    count: int


class Transaction:
    """One open transaction: runs vetted statements by name with bound parameters.

    On PostgreSQL, nothing goes to the server until the first statements: the transaction's
    BEGIN, its settings (and a write's id) go with them, in one round trip; `many` sends
    several statements in one too."""

    def __init__(self, db: Database, conn: Connection, *, writable: bool) -> None:
        self._db = db
        self._conn = conn
        self.writable = writable
        self._begun = False  # on SQLite, by SQLAlchemy's begin event (the first _send knows)
        self._ended = False
        # Why it can't go on: a statement failed (PostgreSQL has rolled it back, and its
        # connection is out of the transaction: whatever ran next would commit on its own).
        self.failed: str | None = None
        self._mark: TransactionMark | None = None

    def rows(self, name: str, /, **params: Any) -> list[Any]:
        """All rows of a statement, as mappings keyed by column name."""
        return self._send([(name, params)])[0].rows

    def one(self, name: str, /, **params: Any) -> Any:
        """The first row of a statement, or None."""
        found = self.rows(name, **params)
        return found[0] if found else None

    def run(self, name: str, /, **params: Any) -> int:
        """Run a statement for its effect; the number of rows it touched."""
        return self._send([(name, params)])[0].count

    def many(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[Any]]:
        """Several statements, run in order, the rows of each: on PostgreSQL sent together in
        one round trip (psycopg's pipeline), so none can take its values from another's rows;
        the server still runs them one after the other (a lock taken by one holds for the
        next). An error in one stops the rest and ends the transaction."""
        return [reply.rows for reply in self._send(calls)]

    def run_many(self, name: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for many parameter sets (executemany)."""
        if params:
            self._execute(name, list(params))

    @property
    def pack(self) -> Pack:
        """The product whose statements this transaction runs."""
        return self._db.pack

    def declared(self, name: str, /, **values: Any) -> dict[str, Any]:
        """Of the values an operation has, those the statement declares: each pack's form of a
        statement binds its own (OmniChat's battery has no purchased total; a check may want
        :now). A declared one missing is a KeyError, never a NULL bound by accident."""
        return {key: values[key] for key in self._db.statement(name).params}

    @property
    def driver_connection(self) -> Any:
        """The DBAPI connection under this transaction (for cancelling and driver settings),
        inside the transaction begun."""
        self._begin()
        return self._conn.connection.driver_connection

    @property
    def unbegun_connection(self) -> Any:
        """The DBAPI connection, left as it is (for a driver setting that sends nothing)."""
        return self._conn.connection.driver_connection

    def transaction_id(self) -> TransactionMark | None:
        """This write transaction's id (PostgreSQL: asked with its BEGIN; None on SQLite), for
        the audit log's intent line: if the reply to COMMIT is lost, Database.
        transaction_status asks about it."""
        if self._db.dialect == "sqlite":
            return _mark(self.rows("transaction_id"))
        self._begin()
        self._refuse_if_over()
        return self._mark

    def stream(self, name: str, /, **params: Any) -> Iterator[RowMapping]:
        """The rows of a statement as they arrive (a server-side cursor on PostgreSQL), for
        results too large to hold: memory stays at one buffer of rows."""
        result = self._execute(name, params, stream=True)
        raw = self._conn.connection.driver_connection
        with (
            self._failing(f"'{name}'"),
            self._db.translate_errors(self._db.statement(name), raw, reading=not self.writable),
        ):
            yield from result.mappings()

    def end(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[Any]]:
        """The last statements, with COMMIT in the same round trip (a read that has nothing to
        decide before committing)."""
        if self._db.dialect == "sqlite":
            return self.many(calls)
        found = [reply.rows for reply in self._send(calls, commit=True)]
        self._ended = True
        return found

    def _begin(self) -> None:
        """Send PostgreSQL's BEGIN and settings now: the driver connection is about to be used."""
        if not self._begun and self._db.dialect == "postgresql":
            self._send([])

    def _refuse_if_over(self) -> None:
        """Nothing more runs in a transaction that committed or failed."""
        if self._ended:
            raise RuntimeError("this transaction has committed already")
        if self.failed:
            raise RuntimeError(f"this transaction was rolled back when {self.failed} failed")

    @contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        """Mark the transaction failed if sending `what` raises."""
        try:
            yield
        except BaseException:
            self.failed = what
            raise

    def _send(
        self, calls: Sequence[tuple[str, Mapping[str, Any]]], *, commit: bool = False
    ) -> list[Reply]:
        self._refuse_if_over()
        opening, privileges, carried = not self._begun, [], []
        if opening:  # what the first statements carry: the role's privileges, a write's id
            privileges, self._db._unasked = self._db._unasked, []
            sqlite = self._db.dialect == "sqlite"
            mark = [("transaction_id", {})] if self.writable and not sqlite else []
            carried = privileges + mark
            self._begun = sqlite  # SQLAlchemy's begin event began it
        sent = [*carried, *calls]
        try:
            if self._db.dialect == "sqlite":
                replies = [self._reply(self._execute(name, values)) for name, values in sent]
            else:
                asked = [(self._db.statement(name), dict(values)) for name, values in sent]
                for statement, values in asked:
                    check_values(statement, values, writable=self.writable)
                with self._failing(", ".join(f"'{name}'" for name, _ in sent) or "BEGIN"):
                    replies = self._db._in_pipeline(
                        self._conn, asked, begin=opening, commit=commit, writable=self.writable
                    )
        except BaseException:
            self._db._unasked = privileges + self._db._unasked  # still to be asked
            raise
        self._begun = True
        for (name, _), reply in zip(carried, replies, strict=False):
            if name == "transaction_id":
                self._mark = _mark(reply.rows)
            else:
                self._db._learn_privileges(reply.rows)
        return replies[len(carried) :]

    @staticmethod
    def _reply(result: Any) -> Reply:
        rows = result.mappings().all() if result.returns_rows else []
        return Reply(rows, len(rows) if result.returns_rows else result.rowcount)

    def _execute(
        self,
        name: str,
        params: Mapping[str, Any] | list[Mapping[str, Any]],
        *,
        stream: bool = False,
    ) -> Any:
        """One statement through SQLAlchemy: SQLite's every statement; on PostgreSQL, a stream
        and an executemany, inside the transaction begun."""
        self._begin()
        self._refuse_if_over()
        statement = self._db.statement(name)
        for one in params if isinstance(params, list) else [params]:
            check_values(statement, one, writable=self.writable)
        if self._db.dialect == "sqlite":
            params = (
                [sqlite_values(p) for p in params]
                if isinstance(params, list)
                else (sqlite_values(params))
            )
        conn = self._conn.execution_options(stream_results=True) if stream else self._conn
        raw = self._conn.connection.driver_connection
        with (
            self._failing(f"'{name}'"),
            self._db.translate_errors(statement, raw, reading=not self.writable),
        ):
            return conn.execute(statement.clause, params)


def _mark(rows: list[Any]) -> TransactionMark | None:
    """A transaction_id row as the audit log's mark (None: SQLite has no transaction ids)."""
    if not rows or rows[0]["xid"] is None:
        return None
    return TransactionMark(str(rows[0]["xid"]), str(rows[0]["server_started"]))


def check_values(statement: Statement, values: Mapping[str, Any], *, writable: bool) -> None:
    """Refuse a statement the transaction may not run, or values it would misread: every
    declared parameter and no other, no naive time, no NUL (PostgreSQL text can't hold one)."""
    name = statement.name
    if statement.mode == "write" and not writable:
        raise ReadOnlyError(f"'{name}' writes; it can only run inside db.write().")
    if set(values) != statement.params:
        raise TypeError(
            f"{statement.source}: '{name}' takes {sorted(statement.params)}, "
            f"was given {sorted(values)}"
        )
    naive = [
        k
        for k, v in values.items()
        for item in (v if isinstance(v, list | tuple) else [v])
        if isinstance(item, datetime) and item.tzinfo is None
    ]
    if naive:
        raise TypeError(f"'{name}': {naive[0]} is a naive datetime; pass UTC-aware times")
    nul = [k for k, v in values.items() if isinstance(v, str) and "\x00" in v]
    if nul:  # refused as input, not as a driver error
        raise InputError(nul[0], "contains a NUL character, which the database can't store")


def sqlite_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """Bind values the way the SQLite schema stores them (see each pack's schema/sqlite.sql)."""
    return {key: _sqlite_value(value) for key, value in params.items()}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # aware: _execute refuses naive ones
        return value.astimezone(UTC).strftime(SQLITE_TIMESTAMP)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple):  # SQLite has no arrays: the SQL reads it with json_each
        return json.dumps([_sqlite_value(item) for item in value])
    return value


class Database:
    """A connection pool for one profile, handing out read-only and write transactions."""

    # Whether independent reads should go in one request even where that costs a screen its
    # step-by-step progress: where each request is an HTTP call far away (D1's API), not here.
    batches_reads = False
    # Whether a write transaction can be held open (read, decide, write under one lock): not
    # over D1's API, where a write is one `batch` of statements that guard themselves.
    holds_transactions = True

    def __init__(
        self,
        profile: Profile,
        password: str | None = None,
        registry: Registry | None = None,
        *,
        pack: Pack | None = None,
        create: bool = False,
        enforce_foreign_keys: bool = True,
    ) -> None:
        self.profile = profile
        self.pack = pack or load_pack()
        self.registry = registry or Registry.load(pack=self.pack.folder)
        self.role = MAIN  # which of the pack's databases this is
        self._data: Database | None = None  # the pack's second database, opened when first used
        self._main: Database | None = None  # the second database's way back to the first
        self._replica: Database | None = None  # the profile's read_url, opened when first used
        self._enforce_foreign_keys = enforce_foreign_keys
        self.dialect = profile.dialect
        self._refuse_other_dialect(self.pack)
        self._read_only = profile.read_only
        self.read_only_why = "read_only = true"
        # What check() leaves for the next read to carry (whether the role may write): asked
        # with it, in its round trip, rather than in one of its own.
        self._unasked: list[tuple[str, dict[str, Any]]] = []
        url = profile.url.set(password=password) if password is not None else profile.url
        self._password = password
        # Driver connections inside a transaction, for cancel_running(); and those asked to stop.
        self._running: set[Any] = set()
        self._cancelled: set[Any] = set()
        self._lock = threading.Lock()
        self._open(url, create=create)

    def _open(self, url: Any, *, create: bool) -> None:
        """The pools: SQLite's two engines (reads made read-only by the connection), or
        PostgreSQL's one (reads made read-only by their BEGIN)."""
        profile, enforce_foreign_keys = self.profile, self._enforce_foreign_keys
        if self.dialect == "sqlite":
            path = profile.url.database
            if path and path != ":memory:" and not create and not Path(path).is_file():
                raise SetupError(
                    f"No SQLite file at {path}; check the path, or run 'adminui demo' "
                    "to build the demo database."
                )
            self._read_engine = self._sqlite_engine(url, "BEGIN", enforce_foreign_keys, True)
            self._write_engine = self._sqlite_engine(
                url, "BEGIN IMMEDIATE", enforce_foreign_keys, False
            )
        else:
            refused = [
                OUTSIDE_ENVIRONMENT[name] for name in OUTSIDE_ENVIRONMENT if name in os.environ
            ]
            if refused:
                raise SetupError(refused[0])
            connect_args: dict[str, Any] = {
                "connect_timeout": profile.connect_timeout,
                "prepare_threshold": profile.prepare_threshold,
                "application_name": "adminui",
                # Whatever PGCLIENTENCODING or the database says: the driver speaks UTF-8.
                "client_encoding": "utf8",
                **KEEPALIVE,
            }
            if profile.sslmode:
                connect_args["sslmode"] = profile.sslmode
            # No hstore: SQLAlchemy would look its type up in `pg_type`, unqualified, when it
            # first connects, before any transaction pins the path; a temporary view of that
            # name (a transaction pooler can leave one behind from another client) would answer.
            engine = create_engine(url, connect_args=connect_args, use_native_hstore=False)
            _answer_from_the_connection(engine, profile.schema)
            _mark_new_connections(engine)
            _refuse_closed_on_checkout(engine)
            self._write_engine = engine
            self._read_engine = engine.execution_options(postgresql_readonly=True)

    @staticmethod
    def _sqlite_engine(url: Any, begin: str, foreign_keys: bool, query_only: bool) -> Engine:
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's begin event, not the sqlite3 module, decide where transactions start.
            dbapi_conn.isolation_level = None
            # SQLite's own lower() folds ASCII only: the vetted statements fold with this one,
            # as PostgreSQL folds, leaving the built-in to the product's indexes (fold.py).
            dbapi_conn.create_function(fold.SQLITE_NAME, 1, fold.fold, deterministic=True)
            for pragma in _SQLITE_SETUP if foreign_keys else _SQLITE_SETUP[1:]:
                dbapi_conn.execute(pragma)
            if query_only:
                dbapi_conn.execute(_SQLITE_QUERY_ONLY)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

        return engine

    def _checked_path(self, found: Any) -> None:
        """Refuse a connection whose sessions start with a search_path (a role's or database's
        setting) that lists a schema before pg_catalog: functions there could answer for
        PostgreSQL's own wherever a path is not pinned. Read in the connection's first
        transaction, before its settings pin the path (nothing unqualified ran before it)."""
        path, source = found["search_path"], found["source"]
        before = _schemas_before_catalog(path or "")
        if before:
            origin = _PATH_SOURCES.get(source, "the server's settings")
            raise SetupError(
                f"{self.profile.where} starts sessions with a search_path (from {origin}) "
                f"that lists {before[0]!r} before pg_catalog, so functions there could stand "
                "in for PostgreSQL's own before adminui pins the path: reset it and connect "
                "again."
            )

    def statement(self, name: str) -> Statement:
        """The vetted statement called `name`, in this database's dialect."""
        return self.registry.get(name, self.dialect)  # type: ignore[arg-type]

    def use_pack(self, pack: Pack) -> None:
        """Serve another product's pack (once recognised from the catalog, before any job); the
        one it serves already keeps its statements (no second read of the query files)."""
        if pack is self.pack:
            return
        self._refuse_other_dialect(pack)
        self.pack = pack
        self.registry = Registry.load(pack=pack.folder)

    def _refuse_other_dialect(self, pack: Pack) -> None:
        """A pack runs only where its statements were written for (OmniChat: SQLite, D1's)."""
        if self.dialect not in pack.dialects:
            names = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
            raise SetupError(
                f"{pack.title} runs on {' and '.join(names[d] for d in pack.dialects)}; "
                f"{self.profile.where} is {names[self.dialect]}."
            )

    def on(self, database: str, needed_for: str) -> Database:
        """The pool of one of the pack's databases: this one (MAIN), or the second one the
        profile's data_url names, connected when first asked for; a SetupError saying what
        needs it when the profile has none."""
        if database == self.role:
            return self
        if self._main is not None:
            return self._main
        # Known before the lock: learning it may read, and a read takes the lock.
        read_only = self.read_only
        with self._lock:
            if self._data is None:
                name = self.pack.databases.get(database, database)
                if self.profile.data_url is None:
                    raise SetupError(
                        f"{needed_for} is in the {name} database, which profile "
                        f"'{self.profile.name}' doesn't name: give it a data_url (or pass "
                        "--data-url)."
                    )
                self._data = self._sibling(url=self.profile.data_url, data_url=None, read_url=None)
                self._data.role = database
                self._data._main = self
                self._data._read_only = read_only
                self._data.read_only_why = self.read_only_why
            return self._data

    @property
    def replica(self) -> Database:
        """Where the heavy reads go (summaries, scans, lists): the profile's read_url, a read
        replica, connected when first asked for; this database when the profile has none.
        Read-only whatever the profile says: nothing is ever written there."""
        if self.profile.read_url is None:
            return self
        with self._lock:
            if self._replica is None:
                self._replica = self._sibling(
                    url=self.profile.read_url, read_url=None, read_only=True
                )
                self._replica.role = self.role
                self._replica.read_only_why = "a read replica"
            return self._replica

    def _sibling(self, **profile: Any) -> Database:
        """A pool for another database of this profile (its second database, its replica):
        the profile with `profile` changed, the same password, statements and pack."""
        return Database(
            replace(self.profile, **profile),
            self._password,
            self.registry,
            pack=self.pack,
            enforce_foreign_keys=self._enforce_foreign_keys,
        )

    def tables(self) -> set[str]:
        """The tables (and views) the product's statements name unqualified, as the search
        path resolves them: what recognising the product looks at."""
        return {row["table_name"] for row in self.rows("live_tables")}

    @property
    def read_only(self) -> bool:
        """Whether writes are refused here: the profile says so, or its role may only read
        (learned with the first read after connecting, or now if nothing has been read)."""
        if self._unasked:
            self.read_many([])
        return self._read_only

    @property
    def known_read_only(self) -> bool:
        """Whether writes are refused as far as is known without asking the server: the profile
        says so, or a read since connecting carried the role's privileges."""
        return self._read_only

    def check(self, *, recognise_pack: bool = False) -> None:
        """Connect, so a wrong host, port or password is told before any screen opens; with
        `recognise_pack`, learn which product this is from its tables; and learn whether the
        role may write at all (a SELECT-only role behaves as read-only): asked with the first
        read, which carries it (when recognising, about every product's tables at once)."""
        # Connecting costs what libpq's connect costs: SQLAlchemy asks nothing more (see
        # _answer_from_the_connection), and the connection waits in the pool for the first read.
        with self.translate_errors(None), self._read_engine.connect():
            pass
        if not recognise_pack:
            self._unasked = (
                [] if self._read_only else [("write_privileges", dict(self.pack.writes))]
            )
            return
        candidates = [] if self._read_only else list(packs())
        asked = [("live_tables", {})] + [("write_privileges", dict(p.writes)) for p in candidates]
        found = self.read_many(asked)
        self.use_pack(recognise({r["table_name"] for r in found[0]}, self.profile.where))
        for pack, rows in zip(candidates, found[1:], strict=True):
            if pack is self.pack:
                self._learn_privileges(rows)

    def _learn_privileges(self, rows: list[Any]) -> None:
        """A SELECT-only role's profile is read-only from the start, saying why."""
        if rows and rows[0]["can_write"] is False:
            mine = self.pack.writes
            self._read_only = True
            self.read_only_why = (
                f"its role {self.profile.url.username or ''} may only read: no INSERT on "
                f"{mine['inserts']} or UPDATE on {mine['updates']}"
            )

    def read_only_refusal(self, what: str) -> ReadOnlyError:
        """The one sentence that refuses `what` on a read-only profile, saying why."""
        return ReadOnlyError(
            f"Profile '{self.profile.name}' is read-only ({self.read_only_why}); {what}."
        )

    @contextmanager
    def read(self, *, exact_json: bool = False) -> Iterator[Transaction]:
        """A read-only transaction (consistent for the statements run inside it). With
        `exact_json`, json/jsonb values keep their numbers exact (Decimal, see exact_json.py),
        as a backup needs them; otherwise they come as the driver parses them."""
        with self._transaction(self._read_engine, writable=False) as tx:
            if exact_json and self.dialect == "postgresql":
                from psycopg.types.json import set_json_loads  # psycopg only where it is used

                raw = tx.unbegun_connection
                set_json_loads(exact_json_loads, raw)
                try:
                    yield tx
                finally:  # the connection goes back to the pool as it came
                    set_json_loads(json.loads, raw)
            else:
                yield tx

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        if self.read_only:
            raise self.read_only_refusal("this change was not made")
        with self._transaction(self._write_engine, writable=True) as tx:
            yield tx

    def batch(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Reply]:
        """Write statements that guard themselves, as one atomic unit, all of them or none: one
        write transaction here (one round trip and its COMMIT), one request on D1, which has
        nothing else. Each one's rows and count, for the caller to see which guards held."""
        if self.read_only:
            raise self.read_only_refusal("this change was not made")
        with self._transaction(self._write_engine, writable=True) as tx:
            return tx._send(calls)

    def rows(self, name: str, /, **params: Any) -> list[Any]:
        """Shortcut: one read statement in its own read-only transaction (one round trip)."""
        return self.read_many([(name, params)])[0]

    def one(self, name: str, /, **params: Any) -> Any:
        """Shortcut: the first row of one read statement."""
        found = self.rows(name, **params)
        return found[0] if found else None

    def read_many(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[Any]]:
        """Several read statements in one read-only transaction, the rows of each in order (as
        mappings). On PostgreSQL the transaction's BEGIN READ ONLY, its settings, every
        statement and its COMMIT go to the server together, in psycopg's pipeline: one round
        trip, however many statements, for a database far away. So the statements can't depend
        on each other's rows: a read that needs one answer to ask the next uses read().

        A read whose connection turns out dropped before the server read any of it (closed
        while it waited in the pool, unseen on checkout: the server answers BEGIN as soon as it
        reads it, so an unanswered BEGIN means it never did) is sent once more, on a new
        connection. A read cut off once the server had it (a statement killed, the server or
        the network going down) is not: the server may still be running it, and the operator
        sees why. A write never is."""
        try:
            with self._transaction(self._read_engine, writable=False) as tx:
                return tx.end(calls)
        except DroppedConnectionError:
            # Whatever dropped it (a restart, a pooler) dropped the pool's other idle ones too:
            # the pool starts again; connections in use elsewhere end when given back. If it
            # can't connect again, that is what the operator is told.
            self._write_engine.dispose(close=False)
            with self._transaction(self._read_engine, writable=False) as tx:
                return tx.end(calls)

    def _in_pipeline(
        self,
        conn: Connection,
        asked: list[tuple[Statement, dict[str, Any]]],
        *,
        begin: bool,
        commit: bool,
        writable: bool,
    ) -> list[Reply]:
        """Send, in one pipeline (one round trip): when `begin`, BEGIN, a new connection's
        search_path read and the transaction's settings; the statements `asked`; when
        `commit`, COMMIT. The connection is in psycopg's autocommit mode meanwhile, so that
        BEGIN and COMMIT are ours, sent with the rest (psycopg's would each wait for its
        reply); psycopg's commit and rollback still end a transaction the server has open, and
        the connection leaves autocommit when it goes back to the pool idle."""
        import psycopg  # only PostgreSQL gets here
        from psycopg.rows import dict_row

        raw = conn.connection.driver_connection
        cursors: list[Any] = []
        sent: list[tuple[Statement, Any]] = []  # each statement sent and its cursor, in order
        if begin:
            raw.autocommit = True
        try:
            with raw.pipeline():
                path = opened = None
                if begin:
                    opened = raw.cursor()
                    begun = self.statement("begin_read_write" if writable else "begin_read_only")
                    opened.execute(begun.pyformat)
                    sent.append((begun, opened))
                    # The server answers BEGIN as soon as it reads it, not at the pipeline's
                    # end: a connection lost with BEGIN unanswered never reached the server.
                    raw.pgconn.send_flush_request()
                    if conn.connection.info.get(UNCHECKED_PATH):
                        path = raw.cursor(row_factory=dict_row)
                        path.execute(self.statement("connection_search_path").pyformat)
                        sent.append((self.statement("connection_search_path"), path))
                    settings = self.statement("transaction_settings")
                    sent.append((settings, raw.cursor()))
                    sent[-1][1].execute(settings.pyformat, self._settings(writable=writable))
                for statement, values in asked:
                    # Binary results: a time or interval is read the same whatever DateStyle
                    # the session has when the pipeline's results are read (a COMMIT with them
                    # has put the session's own back by then; the settings pinned ISO for the
                    # statements).
                    cursor = raw.cursor(row_factory=dict_row, binary=True)
                    cursors.append(cursor)
                    sent.append((statement, cursor))  # before it is sent: a failure can name it
                    cursor.execute(statement.pyformat, values)
                if commit:
                    raw.cursor().execute(self.statement("commit").pyformat)
            if path is not None:
                self._path_seen(conn, path)
            return [
                Reply(c.fetchall() if c.description else [], max(c.rowcount, 0)) for c in cursors
            ]
        except psycopg.Error as error:
            if raw.broken or raw.closed:
                conn.invalidate()
            elif raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raw.rollback()  # the failed transaction ends here; the connection is clean
            # The first statement with an error or no result names the failure (the statements
            # after it get none): one that had connected and lost it, not a failure to connect.
            unsent = [(statement, None) for statement, _ in asked[len(cursors) :]]
            failed = next(
                (s for s, c in sent + unsent if c is None or _failed_result(c.pgresult)), None
            )
            wrapped = sa_exc.DBAPIError.instance(
                None, None, error, psycopg.Error, connection_invalidated=raw.broken
            )
            try:
                with self.translate_errors(failed, raw, reading=not writable):
                    raise wrapped from None
            except ConnectionLostError as lost:
                if opened is not None and opened.pgresult is None:  # not even BEGIN answered
                    raise DroppedConnectionError(str(lost)) from None
                raise
            raise  # translate_errors raises; this line is for the type checker
        finally:
            if commit:
                _leave_autocommit(raw)

    def _path_seen(self, conn: Connection, path: Any) -> None:
        """A new connection's starting search_path, checked once (refused: it is not kept)."""
        try:
            self._checked_path(path.fetchone())
        except SetupError:
            conn.invalidate()
            raise
        conn.connection.info.pop(UNCHECKED_PATH, None)

    def _settings(self, *, writable: bool) -> dict[str, Any]:
        """The values of transaction_settings: the profile's schema and timeout (none: the
        server's or the role's own applies), plans made for each read's values."""
        timeout = self.profile.statement_timeout_ms
        return {
            "schema": self.profile.schema,
            "ms": str(timeout) if timeout else None,
            "plans": None if writable else "force_custom_plan",
        }

    @contextmanager
    def _transaction(self, engine: Engine, *, writable: bool) -> Iterator[Transaction]:
        with self.translate_errors(None, reading=not writable), engine.connect() as conn:
            raw = conn.connection.driver_connection
            with self._lock:
                self._running.add(raw)
            committing = False
            try:
                with conn.begin():
                    # On PostgreSQL, BEGIN and the settings go with the first statements.
                    tx = Transaction(self, conn, writable=writable)
                    yield tx
                    if tx.failed:  # its error was caught inside the block: nothing to commit
                        raise DatabaseError(
                            f"{tx.failed} failed, so its transaction was rolled back: nothing "
                            "of it was committed."
                        )
                    committing = True  # all that is left of the block is its COMMIT
            except sa_exc.DBAPIError as error:
                if not committing:
                    raise
                raise self._commit_failure(error, writable=writable) from None
            except BaseException as error:
                # Ctrl-C while COMMIT waited (on a slow disk, a synchronous standby): the driver
                # cancels the wait, but the server may keep the commit. Not "nothing was done".
                if committing and writable:
                    raise OutcomeUnknownError(
                        f"Interrupted while {self.profile.where} was committing; whether the "
                        "change was committed is not known."
                    ) from error
                raise
            finally:
                with self._lock:
                    self._running.discard(raw)
                    self._cancelled.discard(raw)
                if self.dialect == "postgresql":
                    _leave_autocommit(raw)

    def _commit_failure(self, error: sa_exc.DBAPIError, *, writable: bool) -> Exception:
        """What a failed COMMIT means. A refusal from the server (a deferred constraint, a
        serialization failure) rolled back. A connection lost on the way is different: the
        server may have committed and only its reply be gone, so a write's outcome is unknown
        (the caller asks transaction_status); a read had nothing to commit."""
        lost = error.connection_invalidated or _is_connect_failure(error)
        if lost and writable:
            return OutcomeUnknownError(
                f"Lost the connection to {self.profile.where} while committing; whether the "
                "change was committed is not known."
            )
        if lost:
            return self._describe(error, None, reading=True)
        return DatabaseError(
            f"The database refused to commit: {self._detail(error)}; nothing was changed."
        )

    def transaction_status(self, mark: TransactionMark) -> str | None:
        """'committed', 'aborted' or 'in progress' for a recent transaction, asked on a new
        connection; 'restarted' when the server started again since (its status may then be
        another transaction's); None: the database does not know it."""
        row = self.one("transaction_status", xid=mark.xid)
        if row is None:
            return None
        return "restarted" if row["server_started"] != mark.server_started else row["status"]

    @property
    def running(self) -> int:
        """How many transactions are open right now (from any thread), the second database's
        and the replica's included."""
        with self._lock:
            mine = len(self._running)
        return mine + sum(other.running for other in self._others())

    def _others(self) -> list[Database]:
        """The pools this one opened: the second database's, the replica's."""
        return [other for other in (self._data, self._replica) if other is not None]

    def cancel_running(self) -> int:
        """Stop every statement this Database is running, from any thread: PostgreSQL gets a
        cancel request (psycopg's cancel_safe, on a connection of its own), SQLite an interrupt.
        Their transactions roll back (the second database's and the replica's too). Returns how
        many transactions were open."""
        with self._lock:
            running = list(self._running)
            self._cancelled.update(running)
        for raw in running:
            if self.dialect == "postgresql":
                raw.cancel_safe(timeout=5)
            else:
                raw.interrupt()
        return len(running) + sum(other.cancel_running() for other in self._others())

    def _was_cancelled(self, raw: Any) -> bool:
        with self._lock:
            return raw in self._cancelled

    def run_script(self, script: str) -> None:
        """Run a trusted DDL script (the reference schema) as one unit; demo and tests only."""
        if self.read_only:
            raise ReadOnlyError(f"Profile '{self.profile.name}' is read-only.")
        with self.translate_errors(None), self._write_engine.connect() as conn:
            raw = conn.connection.driver_connection
            if self.dialect == "sqlite":
                raw.executescript(script)  # type: ignore[union-attr]
            else:
                with raw.transaction():  # type: ignore[union-attr]
                    raw.execute(script)  # type: ignore[union-attr]

    def dispose(self) -> None:
        """Close every pooled connection (the second database's and the replica's too)."""
        self._read_engine.dispose()
        self._write_engine.dispose()
        for other in self._others():
            other.dispose()

    @contextmanager
    def translate_errors(
        self, statement: Statement | None, raw: Any = None, *, reading: bool = False
    ) -> Iterator[None]:
        """Turn driver errors into one clear sentence (host and port, never the password).
        `statement` None: around connecting and ending a transaction; `reading`: inside (or
        around) a read-only transaction, where a lost connection has changed nothing."""
        try:
            yield
        except sa_exc.DBAPIError as error:
            if raw is not None and self._was_cancelled(raw):
                name = f"'{statement.name}'" if statement else "The transaction"
                raise CancelledError(
                    f"Stopped {name} at your request; its transaction was rolled back, "
                    "nothing was changed."
                ) from None
            raise self._describe(error, statement, reading) from None

    def _detail(self, error: sa_exc.DBAPIError) -> str:
        """The driver's first line, with the password masked should it appear."""
        detail = _first_line(str(error.orig))
        return detail.replace(self._password, "***") if self._password else detail

    def _describe(
        self, error: sa_exc.DBAPIError, statement: Statement | None, reading: bool
    ) -> Exception:
        detail = self._detail(error)
        # The statement's name and file follow in brackets, for a bug report: the sentence is
        # in the operator's words.
        named = f" [{statement.name}, {statement.source}]" if statement else ""
        if error.connection_invalidated or _is_connect_failure(error):
            # Invalidated: SQLAlchemy had a connection and lost it (a failed connect has none to
            # lose), so with no statement running, a read transaction was ending.
            if reading and (statement is not None or error.connection_invalidated):
                during = "reading from it" if statement else "ending a read"
                return ConnectionLostError(
                    f"Lost the connection to {self.profile.where} while {during}: nothing was "
                    f"changed. Retry when the database is back.{named}"
                )
            if statement is None:
                return SetupError(_connect_advice(self.profile, detail))
            return ConnectionLostError(
                f"Lost the connection to {self.profile.where} in the middle of a change; "
                f"nothing was changed by it. Retry when the database is back.{named}"
            )
        if _sqlstate(error) == "57014":
            timeout = self.profile.statement_timeout_ms
            limit = (
                f"statement_timeout_ms ({timeout} ms)"
                if timeout
                else "the server's statement_timeout"
            )
            return DatabaseError(
                f"The database stopped the query: it ran past {limit} or was cancelled.{named}"
            )
        return DatabaseError(f"The database refused it: {detail}.{named}")


def _failed_result(result: Any) -> bool:
    """Whether a cursor in a pipeline has no result, or the server's refusal."""
    from psycopg.pq import ExecStatus

    return result is None or result.status == ExecStatus.FATAL_ERROR


def _leave_autocommit(raw: Any) -> None:
    """A pooled connection goes back as psycopg opened it (not in autocommit), once idle."""
    from psycopg.pq import TransactionStatus

    if raw.broken or raw.closed:
        return
    if raw.info.transaction_status == TransactionStatus.IDLE:
        raw.autocommit = False


def _answer_from_the_connection(engine: Engine, schema: str) -> None:
    """SQLAlchemy's first connect asks the server its version, current schema, default
    isolation level and standard_conforming_strings: four round trips (with a BEGIN and a
    ROLLBACK), unqualified, before any transaction pins the path. The connection already knows
    them (libpq's server version and parameter status); the schema is the one adminui pins; the
    isolation level is the one adminui never changes, so SQLAlchemy never resets it."""
    dialect: Any = engine.dialect

    def version(connection: Connection) -> tuple[int, ...]:
        number = connection.connection.driver_connection.info.server_version
        return (
            (number // 10000, number % 10000)
            if number >= 100000
            else (number // 10000, number // 100 % 100)
        )

    def backslash_escapes(connection: Connection) -> None:
        status = connection.connection.driver_connection.info.parameter_status
        dialect._backslash_escapes = status("standard_conforming_strings") == "off"

    dialect._get_server_version_info = version
    dialect._get_default_schema_name = lambda _connection: schema
    dialect.get_default_isolation_level = lambda _dbapi_connection: "READ COMMITTED"
    dialect._set_backslash_escapes = backslash_escapes


def _mark_new_connections(engine: Engine) -> None:
    """A new connection's starting search_path is read in its first transaction (Database.
    _checked_path), with that transaction's settings: no round trip of its own. And a type the
    driver has no loader for (an enum or citext the product declared where the reference has
    text) reads as text from binary results too, as it does from text ones: the driver's own
    fallback gives bytes, and b'pending' is not 'pending'. (That holds for types whose binary
    form is their text, as an enum's and citext's are; a column of another unknown type, say
    money, would not read right: `adminui schema check` reports a column of another type.)"""
    from psycopg.adapt import PyFormat  # only PostgreSQL gets here
    from psycopg.postgres import types

    text_oid = types.get("text").oid

    @event.listens_for(engine, "connect")
    def _new(dbapi_conn: Any, record: Any) -> None:
        record.info[UNCHECKED_PATH] = True
        adapters = dbapi_conn.adapters
        adapters.register_loader(0, adapters.get_loader(text_oid, PyFormat.as_pq(PyFormat.BINARY)))


def _refuse_closed_on_checkout(engine: Engine) -> None:
    """A pooled connection the server closed while it waited (a restart, a pooler's or the
    server's idle timeout) has its socket readable: the server's last words, or its end. Seen
    on checkout, with no round trip, and replaced by a new connection before anything is sent
    (the pool tries again); an idle connection is sent nothing else, so nothing else makes it
    readable."""

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_conn.closed or _readable(dbapi_conn.fileno()):
            raise sa_exc.DisconnectionError("closed by the server while idle in the pool")


def _readable(fd: int) -> bool:
    """Whether a socket has something to read now (selectors: any descriptor number, unlike
    select.select's limit of 1024)."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        return bool(selector.select(0))


def _schemas_before_catalog(path: str) -> list[str]:
    """The schemas a search_path setting lists before pg_catalog; none when it does not list
    pg_catalog, which PostgreSQL then searches first."""
    names = [
        item[1].replace('""', '"') if item[1] is not None else item[2].lower()
        for item in _PATH_ITEM.finditer(path)
    ]
    return names[: names.index("pg_catalog")] if "pg_catalog" in names else []


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "no detail given"


def _sqlstate(error: sa_exc.DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _is_connect_failure(error: sa_exc.DBAPIError) -> bool:
    state = _sqlstate(error)
    # Class 08 is "connection exception"; 28 is "invalid authorization"; 3D000 a missing database.
    if state and (state.startswith(("08", "28")) or state == "3D000"):
        return True
    text = str(error.orig).lower()
    return isinstance(error, sa_exc.OperationalError) and any(
        part in text
        for part in (
            "connection",
            "could not translate",
            "failed to resolve host",  # psycopg resolves host names itself
            "timeout expired",
            "unable to open",
        )
    )


def _connect_advice(profile: Profile, detail: str) -> str:
    where = profile.where
    lower = detail.lower()
    user = profile.url.username or "the user"
    if profile.dialect == "sqlite":
        return f"Can't open {where}: {detail}."
    if "refused" in lower:
        return (
            f"Nothing accepted a connection at {where}: is the server running, and are host "
            "and port right?"
        )
    if "password authentication failed" in lower or "no password supplied" in lower:
        what = (
            f"refused the password for {user}"
            if "failed" in lower
            else f"wants a password for {user} and none was given"
        )
        fix = (
            "put it in ADMINUI_PASSWORD (or in the --url)"
            if profile.name == URL_PROFILE
            else f"set it with 'adminui password set {profile.name}' or ADMINUI_PASSWORD"
        )
        return f"{where} {what}: {fix}."
    if "does not support ssl" in lower:
        mode = profile.sslmode or profile.url.query.get("sslmode") or "require"
        return (
            f"{where} does not support SSL, but sslmode = {mode} requires it: "
            "enable SSL on the server, or change sslmode."
        )
    if "does not exist" in lower:
        return f"{where}: {detail}; check the database and user names in the URL."
    if "timeout expired" in lower:
        return (
            f"No answer from {where} within {profile.connect_timeout} s: check the host, "
            "the network and any firewall."
        )
    if "translate host name" in lower or "name or service not known" in lower:
        return f"The host of {where} was not found: check the host name in the URL."
    return f"Could not connect to {where}: {detail}."
