"""Cloudflare D1's HTTP API: where the OmniChat and filepath databases really are (issue 20).

`POST {base}/accounts/{account}/d1/database/{database}/query` with a Bearer API token and either
`{"sql", "params"}` or `{"batch": [{"sql", "params"}, ...]}`; the reply's `result[]` holds each
statement's `results` (rows as objects) and `meta` (`changes`, `last_row_id`, ...). There is no
interactive transaction: one request is the atomic unit, all its statements or none. Parameters
are positional (`?NNN`, queries.Statement.numbered): values are bound, never spliced in.

A small client of our own on httpx, not Cloudflare's library (7.7 MB for all of Cloudflare, and it
sends a POST again by itself on a timeout: a write twice) nor the SQLAlchemy dialect (no batches,
commit and rollback that do nothing). One connection kept open (keep-alive): a request far away
costs one round trip (httpx's pool replaces one the other end closed while idle). Nothing is
sent twice by itself.

Every failure is one sentence, exit code 2 (ApiError): the token refused, the database unknown,
D1's own error text, too many requests (429, with its Retry-After), a timeout. A write whose
reply is lost may have been applied: OutcomeUnknownError (exit 3), never "nothing was done".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adminui import remote
from adminui.errors import OutcomeUnknownError, SetupError

DEFAULT_API = "https://api.cloudflare.com/client/v4"
API_ENV = "ADMINUI_D1_API"
# D1 ends a query at 30 s, and the API call with it: a reply later than this is not coming.
TIMEOUT = 40.0
CONNECT_TIMEOUT = 10.0
# D1's own limits (developers.cloudflare.com/d1/platform/limits): refused here, before sending.
MAX_PARAMS = 100
MAX_STATEMENT_BYTES = 100_000
# Cloudflare's codes worth naming in the operator's words (the rest: their own message).
_AUTH_CODES = {10000, 9106, 9109, 6003}
_NOT_FOUND = 7404
_NOT_AUTHORISED = 7403


class ApiError(SetupError):
    """The D1 API refused or failed a request; whatever it held was not applied."""


@dataclass(frozen=True)
class Result:
    """One statement's reply: its rows (as dicts) and how many rows it changed."""

    rows: list[dict[str, Any]]
    changes: int


def api_base(configured: str | None) -> str:
    """The API's base URL: $ADMINUI_D1_API, else the profile's d1_api, else Cloudflare's."""
    return remote.api_base(API_ENV, configured, DEFAULT_API, "Cloudflare D1")


class D1Client:
    """One D1 database over the API, with one API token; safe to share between threads."""

    def __init__(self, account: str, database: str, token: str, base: str) -> None:
        import httpx  # only where D1 is reached: no other command pays for its import

        self.base = base
        self.database = database
        self._url = f"{base}/accounts/{account}/d1/database/{database}/query"
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=httpx.Timeout(TIMEOUT, connect=CONNECT_TIMEOUT),
            follow_redirects=False,  # a redirect could carry the token elsewhere
            trust_env=remote.proxies_allowed(base),
        )
        self._lock = threading.Lock()
        self.requests = 0  # how many were sent (tests and the bench count them)

    def close(self) -> None:
        self._http.close()

    def query(
        self, statements: Sequence[tuple[str, Sequence[Any]]], *, writing: bool
    ) -> list[Result]:
        """Run `statements` (SQL with ?N, and their values) in one request, atomically: each
        one's result, in order."""
        import httpx

        for sql, values in statements:
            _check_limits(sql, values)
        items = [{"sql": sql, "params": [_wire(v) for v in values]} for sql, values in statements]
        body = json.dumps(items[0] if len(items) == 1 else {"batch": items}, allow_nan=False)
        with self._lock:
            self.requests += 1
        try:
            reply = self._http.post(self._url, content=body)
        except httpx.HTTPError as error:
            raise self._lost(error, writing) from None
        return self._results(reply, len(items), writing)

    def _lost(self, error: Exception, writing: bool) -> Exception:
        """What a request that got no reply means: for a write, that it may have been applied."""
        import httpx

        what = (
            "timed out"
            if isinstance(error, httpx.TimeoutException)
            else f"failed ({type(error).__name__})"
        )
        unsent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        if writing and not unsent:
            return OutcomeUnknownError(
                f"The request to the D1 API at {self.base} {what} before its reply came; "
                "whether the change was applied is not known."
            )
        return ApiError(
            f"The request to the D1 API at {self.base} {what}; nothing was changed. "
            "Check the network (and $ADMINUI_D1_API or the profile's d1_api) and try again."
        )

    def _results(self, reply: Any, count: int, writing: bool) -> list[Result]:
        """The reply's results, or its failure as one sentence. A write is said refused only
        by a refusal D1 or Cloudflare documents (a 4xx with its code, a 429): anything else (a
        gateway's 5xx, a page of HTML) may have come after D1 ran it, so its outcome is not
        known."""
        try:
            data = reply.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        if reply.status_code == 200 and data.get("success") is True:
            results = data.get("result")
            if isinstance(results, list) and len(results) == count:
                return [_result(item) for item in results]
            if writing:
                raise OutcomeUnknownError(
                    f"The D1 API at {self.base} said the change succeeded but its reply is not "
                    "what the API documents; whether it was applied as previewed is not known."
                )
            raise ApiError(
                f"The D1 API at {self.base} replied with {count} statements sent but "
                "not their results in the documented form; nothing was changed."
            )
        if writing and not _documented_refusal(reply.status_code, data):
            raise OutcomeUnknownError(
                f"The D1 API at {self.base} answered HTTP {reply.status_code} with no refusal it "
                "documents; whether the change was applied is not known."
            )
        raise ApiError(self._refusal(reply, data))

    def _refusal(self, reply: Any, data: dict[str, Any]) -> str:
        """A failed reply in the operator's words (D1's own message for a statement)."""
        errors = data.get("errors") if isinstance(data.get("errors"), list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        code = first.get("code")
        message = _plain(first.get("message")) or f"HTTP {reply.status_code}"
        status = reply.status_code
        if status == 429:
            wait = reply.headers.get("retry-after")
            when = f"try again in {_plain(wait)} s" if wait else "try again in a few minutes"
            return (
                f"The D1 API is refusing requests for now ({message}; HTTP 429): {when}. "
                "Nothing was changed."
            )
        if code in _AUTH_CODES or status == 401:
            return (
                f"The D1 API refused the API token ({message}): check it with 'adminui password "
                "set PROFILE' or ADMINUI_PASSWORD. Nothing was changed."
            )
        if code == _NOT_FOUND or status == 404:
            return (
                f"The D1 API knows no database {self.database} in this account ({message}): "
                "check the profile's url, d1://ACCOUNT_ID/DATABASE_ID."
            )
        if code == _NOT_AUTHORISED or status == 403:
            return (
                f"The D1 API did not allow it ({message}): the token may lack D1 access to "
                "this account, or be read-only (D1 Read) for a write. Nothing was changed."
            )
        return f"D1 refused it: {message}. Nothing was changed."


def _documented_refusal(status: int, data: dict[str, Any]) -> bool:
    """A reply that says the request was refused whole: 429, or a 4xx with Cloudflare's error
    envelope (a statement's error rolls D1's batch back; the others never ran it)."""
    errors = data.get("errors")
    coded = isinstance(errors, list) and errors and isinstance(errors[0], dict)
    return status == 429 or (400 <= status < 500 and bool(coded) and data.get("success") is False)


def _check_limits(sql: str, values: Sequence[Any]) -> None:
    if len(values) > MAX_PARAMS:
        raise ApiError(
            f"D1 binds at most {MAX_PARAMS} values in one statement; this has {len(values)}."
        )
    if len(sql.encode()) > MAX_STATEMENT_BYTES:
        raise ApiError(f"D1 takes statements of at most {MAX_STATEMENT_BYTES:,} bytes.")


def _wire(value: Any) -> Any:
    """A bound value as JSON: D1 reads true and false as text, so booleans go as 1 and 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes):
        raise TypeError("D1's API takes no binary values")
    return value


def _result(item: Any) -> Result:
    if not isinstance(item, dict):
        raise ApiError("The D1 API replied with a result that is not what it documents.")
    rows = item.get("results") or []
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    changes = meta.get("changes")
    return Result(
        [dict(row) for row in rows if isinstance(row, dict)],
        changes if isinstance(changes, int) else 0,
    )


def _plain(text: Any) -> str:
    """An API's text as one line of at most 300 printable characters (it is shown as is)."""
    line = " ".join(str(text or "").split())
    return "".join(c for c in line if c.isprintable())[:300]
