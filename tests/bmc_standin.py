"""A stand-in for Buy Me a Coffee's API on loopback: a real HTTP server speaking the documented
requests and replies, for the tests and the bench (we can't reach the real one, and must never
mock the client).

What it speaks (https://developers.buymeacoffee.com, and the shapes its client libraries read):
GET /supporters[/{id}], /extras[/{id}], /subscriptions?status=all|active|inactive[/{id}], with
`Authorization: Bearer TOKEN` (anything else: 401). Lists newest first, in the Laravel envelope
(`current_page, data, first_page_url, from, last_page, last_page_url, next_page_url` absolute
and null on the last page, `path, per_page, prev_page_url, to, total`); an empty list is HTTP
200 with `{"error": "No supporters"}` and no data. Prices are strings ("5.0000"), times
"YYYY-MM-DD HH:MM:SS" with no zone, `is_refunded` null, 1 or "1".

Switches for what goes wrong: `latency` before every reply, `slow` (a reply held past a
client's timeout), `limit` (requests per window, then 429 with Retry-After), `malformed`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.http_reply import send_json

TOKEN = "bmc-test-token"
# Each list's id and time fields (it is ordered newest first by them).
LISTS = {
    "supporters": ("support_id", "support_created_on"),
    "extras": ("purchase_id", "purchased_on"),
    "subscriptions": ("subscription_id", "subscription_created_on"),
}
PREFIX = "/api/v1"


def supporter(
    support_id: int,
    email: str,
    created: datetime,
    *,
    coffees: int = 1,
    price: str = "5.0000",
    currency: str = "USD",
    refunded: Any = None,
    name: str = "A Supporter",
    note: str | None = None,
) -> dict[str, Any]:
    """A supporter as the API gives one (every documented field)."""
    return {
        "support_id": support_id,
        "support_note": note,
        "support_coffees": coffees,
        "transaction_id": f"pi_{support_id:012d}",
        "support_visibility": 1,
        "support_created_on": f"{created:%Y-%m-%d %H:%M:%S}",
        "support_updated_on": f"{created:%Y-%m-%d %H:%M:%S}",
        "transfer_id": None,
        "supporter_name": name,
        "support_coffee_price": price,
        "support_email": email,
        "is_refunded": refunded,
        "support_currency": currency,
        "support_note_pinned": 0,
        "referer": None,
        "country": "US",
        "payer_email": email,
        "payment_platform": "stripe",
        "payer_name": name,
        "refunded_at": f"{created:%Y-%m-%d %H:%M:%S}" if refunded not in (None, 0, "0") else None,
    }


def extra(purchase_id: int, email: str, created: datetime, amount: str = "10.00") -> dict[str, Any]:
    return {
        "purchase_id": purchase_id,
        "purchased_on": f"{created:%Y-%m-%d %H:%M:%S}",
        "purchase_updated_on": f"{created:%Y-%m-%d %H:%M:%S}",
        "purchase_is_revoked": 0,
        "purchase_amount": amount,
        "purchase_currency": "USD",
        "purchase_question": "",
        "purchase_payer_email": email,
        "purchase_payer_name": "An Extra Buyer",
        "extra": {"reward_id": 1, "reward_title": "100 credits", "reward_coffee_price": amount},
    }


def membership(subscription_id: int, email: str, created: datetime) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "subscription_cancelled_on": None,
        "subscription_created_on": f"{created:%Y-%m-%d %H:%M:%S}",
        "subscription_updated_on": f"{created:%Y-%m-%d %H:%M:%S}",
        "subscription_current_period_start": f"{created:%Y-%m-%d %H:%M:%S}",
        "subscription_current_period_end": f"{created:%Y-%m-%d %H:%M:%S}",
        "subscription_coffee_price": "3.0000",
        "subscription_coffee_num": 1,
        "subscription_is_cancelled": None,
        "subscription_is_cancelled_at_period_end": None,
        "subscription_currency": "USD",
        "subscription_message": None,
        "message_visibility": 1,
        "subscription_duration_type": "month",
        "referer": None,
        "country": None,
        "transaction_id": f"sub_{subscription_id}",
        "payer_email": email,
        "payer_name": "A Member",
    }


@dataclass
class Standin:
    """The stand-in's data and switches (change them while it runs)."""

    supporters: list[dict[str, Any]] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    token: str = TOKEN
    per_page: int = 5
    latency: float = 0.0  # seconds before every reply
    slow: float = 0.0  # seconds more, past a client's timeout
    limit: tuple[int, float] | None = None  # (requests, seconds): more in a window get 429
    retry_after: str = "1"
    malformed: str = ""  # "json": not JSON; "data": no data list; "price": a price that isn't
    error: str = ""  # a 200 {"error": ...} for every request (what BMC says of an empty list)
    # Supporters that pay while a list is read: added when a page past the first is asked for.
    arrivals: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # every request's path and query, in order
    url: str = ""
    port: int = 0
    _times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, target: str, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.paths.append(target)
            now = time.monotonic()
            if self.limit is not None:
                count, window = self.limit
                self._times = [t for t in self._times if now - t < window]
                if len(self._times) >= count:
                    return (
                        429,
                        {"Retry-After": self.retry_after},
                        b'{"error": "Too Many Attempts."}',
                    )
                self._times.append(now)
        time.sleep(self.latency + self.slow)
        if authorization != f"Bearer {self.token}":
            return 401, {}, b'{"error": "Unauthenticated."}'
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if self.error:
            return 200, {}, json.dumps({"error": self.error}).encode()
        if self.arrivals and int(query.get("page", "1")) > 1:
            with self._lock:
                self.supporters += self.arrivals
                self.arrivals = []
        names = parts.path.removeprefix(PREFIX).strip("/").split("/")
        if names[0] not in LISTS or len(names) > 2:
            return 404, {}, b'{"error": "Not found"}'
        key, created = LISTS[names[0]]
        items = sorted(
            self._items(names[0], query),
            key=lambda i: (i[created], i[key]),
            reverse=True,
        )
        if len(names) == 2:
            found = [i for i in items if str(i[key]) == names[1]]
            if not found:
                return 404, {}, b'{"error": "Not found"}'
            return 200, {}, self._body(found[0])
        if not items:
            return 200, {}, json.dumps({"error": f"No {names[0]}"}).encode()
        page = int(query.get("page", "1"))
        return 200, {}, self._body(self._envelope(parts.path, query, items, page))

    def _items(self, name: str, query: dict[str, str]) -> list[dict[str, Any]]:
        items = getattr(self, name)
        if name == "subscriptions" and query.get("status") in ("active", "inactive"):
            active = query["status"] == "active"
            items = [i for i in items if (i["subscription_is_cancelled"] is None) == active]
        return items

    def _envelope(self, path: str, query: dict[str, str], items: list, page: int) -> dict[str, Any]:
        per = self.per_page
        last = max(1, math.ceil(len(items) / per))
        data = items[(page - 1) * per : page * per]

        origin = self.url.removesuffix(PREFIX)  # absolute, as BMC gives them

        def url(number: int) -> str:
            return f"{origin}{path}?{urlencode({**query, 'page': number})}"

        return {
            "current_page": page,
            "data": data,
            "first_page_url": url(1),
            "from": (page - 1) * per + 1 if data else None,
            "last_page": last,
            "last_page_url": url(last),
            "next_page_url": url(page + 1) if page < last else None,
            "path": f"{origin}{path}",
            "per_page": per,
            "prev_page_url": url(page - 1) if page > 1 else None,
            "to": (page - 1) * per + len(data) if data else None,
            "total": len(items),
        }

    def _body(self, value: Any) -> bytes:
        if self.malformed == "json":
            return b"<html>Bad gateway</html>"
        if self.malformed == "data" and isinstance(value, dict) and "data" in value:
            value = {**value, "data": None}
        if self.malformed == "price":
            value = json.loads(json.dumps(value))
            for item in value.get("data") or [value]:
                item["support_coffee_price"] = "five"
        return json.dumps(value, default=lambda v: str(v) if isinstance(v, Decimal) else v).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        status, headers, body = self.server.standin.reply(
            self.path, self.headers.get("Authorization")
        )
        send_json(self, status, headers, body)

    def log_message(self, *_: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: Standin


@contextmanager
def serving(standin: Standin) -> Iterator[Standin]:
    """The stand-in listening on a free loopback port; its base URL in `standin.url`."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.standin = standin
    standin.port = server.server_address[1]
    standin.url = f"http://127.0.0.1:{standin.port}{PREFIX}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
