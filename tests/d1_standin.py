"""A stand-in for Cloudflare D1's HTTP API on loopback, backed by a real SQLite file: a real HTTP
server speaking the documented requests and replies, for the tests and the bench (we can't reach
the real one, and must never mock the client).

What it speaks (developers.cloudflare.com/api/resources/d1/subresources/database/methods/query,
the D1 limits and debugging pages, and replies Cloudflare's own tools read):
POST /client/v4/accounts/{account}/d1/database/{database}/query with `Authorization: Bearer
TOKEN` and `{"sql", "params"}` or `{"batch": [{"sql", "params"}, ...]}`. Each request runs in
one SQLite transaction, all its statements or none, with foreign keys on (as D1 has them); `?`
and `?NNN` placeholders, values bound as D1 binds JSON ones (true and false as text). The reply:
`{"result": [{"results": [rows as objects], "success": true, "meta": {changes, last_row_id,
rows_read, rows_written, changed_db, size_after, duration, served_by, ...}}], "success": true,
"errors": [], "messages": []}`, numbers as JavaScript writes them (5.0 as 5, integers past 2^53
rounded).

Errors as D1 gives them: `{"success": false, "errors": [{"code", "message"}], "result": null}` -
a statement's error HTTP 400, code 7500, "<SQLite's message>: SQLITE_<CODE>" (over 100 bound
values or 100,000 bytes of SQL too, a BEGIN or SAVEPOINT, an ATTACH, reading D1's own _cf_
tables); an unknown database 404, 7404; another account 403, 7403; a token it doesn't know 403,
10000 "Authentication error"; a write with a read-only (D1 Read) token 403, 7403.

Switches for what goes wrong: `latency` before every reply, `fail_statement` (the Nth statement
of the next request fails after the ones before it ran: nothing of the request may land),
`rate_limit` (requests per window, then 429 with Retry-After, code 971), `overloaded` (429, code
7429), `drop_reply` (the next request runs, then its connection closes with no reply;
`drop_write_reply`: the next one that writes), `bad_gateway` (the next request that writes
runs, then a gateway's 502 page of HTML is the reply),
`foreign_keys` (off: a database whose schema declares no keys, as where orphans come from).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.http_reply import send_json

ACCOUNT = "0123456789abcdef0123456789abcdef"
DATABASE = "d1d1d1d1-0000-4000-8000-000000000001"
TOKEN = "d1-test-token"
READ_TOKEN = "d1-read-only-token"  # a token with D1 Read only
PREFIX = "/client/v4"
MAX_PARAMS = 100
MAX_STATEMENT_BYTES = 100_000
_ROUTE = re.compile(rf"^{PREFIX}/accounts/([^/]+)/d1/database/([^/]+)/query$")
# What D1 does not let a query do (sqlite3 authorizer actions), and its own tables.
_REFUSED_ACTIONS = {sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT, sqlite3.SQLITE_ATTACH}


class Refused(Exception):
    """A reply other than success: HTTP status, Cloudflare's code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class D1StandIn:
    """The server, the SQLite file of each database it serves (by id) and its switches;
    `requests` counts what it was sent."""

    databases: dict[str, Path] = field(default_factory=dict)
    latency: float = 0.0
    fail_statement: int | None = None
    rate_limit: int | None = None
    overloaded: bool = False
    drop_reply: bool = False
    drop_write_reply: bool = False
    bad_gateway: bool = False
    # D1 enforces every foreign key a schema declares; orphans live where a schema declares
    # none. Off: the stand-in serves the files (whose schema declares them) as such a database.
    foreign_keys: bool = True
    requests: int = 0
    bodies: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def serve(self, path: Path, database: str = DATABASE) -> str:
        """Serve the SQLite file at `path` as the database `database`; its id."""
        with self._lock:
            self.databases[database] = path
        return database

    def forget(self, database: str) -> None:
        with self._lock:
            self.databases.pop(database, None)

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def __enter__(self) -> D1StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Cloudflare's API
            disable_nagle_algorithm = True  # headers and body written apart, sent at once

            def do_POST(self) -> None:
                standin._serve(self)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        with self._lock:  # D1 runs one database's requests one at a time
            self.requests += 1
            try:
                status, reply, headers = 200, self._answer(handler, raw), {}
            except Refused as refused:
                status, reply = refused.status, _failure(refused.code, refused.message)
                headers = {"Retry-After": "7"} if refused.code == 971 else {}
            writes = _writes(raw)
            if self.drop_reply or (self.drop_write_reply and writes):
                self.drop_reply = self.drop_write_reply = False
                handler.close_connection = True
                handler.connection.close()
                return
        time.sleep(self.latency)
        if self.bad_gateway and writes:
            self.bad_gateway = False
            page = b"<html><body><h1>502 Bad gateway</h1></body></html>"
            send_json(handler, 502, {}, page, "text/html")
            return
        send_json(handler, status, headers, json.dumps(reply).encode())

    def _answer(self, handler: BaseHTTPRequestHandler, raw: bytes) -> dict[str, Any]:
        if self.rate_limit is not None:
            if self.rate_limit <= 0:
                raise Refused(429, 971, "Please wait and consider throttling your request speed")
            self.rate_limit -= 1
        route = _ROUTE.match(handler.path)
        if route is None:
            raise Refused(404, 7003, "No route for the URI")
        token = handler.headers.get("Authorization", "")
        if token not in (f"Bearer {TOKEN}", f"Bearer {READ_TOKEN}"):
            raise Refused(403, 10000, "Authentication error")
        if route[1] != ACCOUNT:
            raise Refused(
                403,
                7403,
                "The given account is not valid or is not authorized to access this service",
            )
        path = self.databases.get(route[2])
        if path is None:
            raise Refused(404, 7404, f"The database {route[2]} could not be found")
        if self.overloaded:
            raise Refused(429, 7429, "D1 DB is overloaded. Requests queued for too long.")
        self.bodies.append(json.loads(raw or b"null"))
        statements = _statements(self.bodies[-1])
        return {
            "result": self._run(path, statements, read_only=token == f"Bearer {READ_TOKEN}"),
            "success": True,
            "errors": [],
            "messages": [],
        }

    def _run(
        self, path: Path, statements: list[tuple[str, list[Any]]], *, read_only: bool
    ) -> list[Any]:
        """Every statement in one transaction; the first error rolls all of them back."""
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA foreign_keys = {'ON' if self.foreign_keys else 'OFF'}")
            if read_only:
                conn.execute("PRAGMA query_only = ON")
            conn.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")
            conn.set_authorizer(_authorize)
            try:
                results = []
                for number, (sql, params) in enumerate(statements, start=1):
                    if self.fail_statement == number:
                        self.fail_statement = None
                        raise Refused(400, 7500, "injected failure of this statement: SQLITE_ERROR")
                    results.append(_one(conn, sql, params))
            except BaseException:
                conn.set_authorizer(None)
                conn.execute("ROLLBACK")
                raise
            conn.set_authorizer(None)
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            if read_only and "readonly" in str(error):
                raise Refused(
                    403,
                    7403,
                    "The given account is not valid or is not authorized to access this service",
                ) from None
            raise Refused(400, 7500, f"{error}: {_code(error)}") from None
        finally:
            conn.close()
        return results


def _writes(raw: bytes) -> bool:
    """Whether a request's statements write (what the reply-losing switches wait for)."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return False
    items = body.get("batch", [body]) if isinstance(body, dict) else []
    verbs = ("INSERT", "UPDATE", "DELETE")
    return any(
        str(i.get("sql", "")).lstrip().upper().startswith(verbs)
        for i in items
        if isinstance(i, dict)
    )


def _statements(body: Any) -> list[tuple[str, list[Any]]]:
    """The request's statements, refused as D1 refuses a body not of the documented forms."""
    items = body.get("batch") if isinstance(body, dict) and "batch" in body else [body]
    if not isinstance(items, list) or not items:
        raise Refused(400, 7400, "The request is malformed: batch must be a non-empty array")
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
            raise Refused(400, 7400, "The request is malformed: each query needs sql")
        params = item.get("params", [])
        if not isinstance(params, list):
            raise Refused(400, 7400, "The request is malformed: params must be an array")
        if any(isinstance(p, dict | list) for p in params):
            raise Refused(400, 7500, "D1_TYPE_ERROR: Type 'object' not supported")
        if len(params) > MAX_PARAMS:
            raise Refused(400, 7500, "too many SQL variables: SQLITE_ERROR")
        if len(item["sql"].encode()) > MAX_STATEMENT_BYTES:
            raise Refused(400, 7500, "statement too long: SQLITE_TOOBIG")
        found.append((item["sql"], [_bound(p) for p in params]))
    return found


def _bound(value: Any) -> Any:
    """A JSON value as D1 binds it: true and false become the text 'true' and 'false'."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _authorize(action: int, arg1: Any, _arg2: Any, _db: Any, _trigger: Any) -> int:
    if action in _REFUSED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and str(arg1).startswith("_cf_"):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _one(conn: sqlite3.Connection, sql: str, params: list[Any]) -> dict[str, Any]:
    started = time.perf_counter()
    cursor = conn.execute(sql, params)
    names = [c[0] for c in cursor.description or ()]
    rows = [dict(zip(names, map(_js, row), strict=True)) for row in cursor.fetchall()]
    changes = max(cursor.rowcount, 0)  # -1 for a SELECT
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    elapsed = (time.perf_counter() - started) * 1000
    return {
        "results": rows,
        "success": True,
        "meta": {
            "served_by": "v3-standin",
            "served_by_region": "WEUR",
            "served_by_primary": True,
            "timings": {"sql_duration_ms": elapsed},
            "duration": elapsed,
            "changes": changes,
            "last_row_id": cursor.lastrowid or 0,
            "changed_db": changes > 0,
            "size_after": pages * size,
            "rows_read": len(rows),
            "rows_written": changes,
        },
    }


def _js(value: Any) -> Any:
    """A value as D1's reply carries it: a JavaScript number (5.0 is 5; past 2^53 rounded)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, int) and abs(value) > 2**53:
        return int(float(value))
    if isinstance(value, bytes):
        return list(value)
    return value


def _code(error: sqlite3.Error) -> str:
    """SQLite's primary result code name, as D1 ends its messages (SQLITE_CONSTRAINT)."""
    name = getattr(error, "sqlite_errorname", "SQLITE_ERROR")
    return "_".join(name.split("_")[:2])


def _failure(code: int, message: str) -> dict[str, Any]:
    return {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
    }
