"""Buy Me a Coffee: what was really paid, read from its API (or from the dashboard's CSV export),
so a grant matches a real payment and a payment can grant only once (issue 18).

The API is read-only and all GET, with a personal access token as a Bearer token:
`/supporters[/{id}]` (one-off payments), `/extras[/{id}]`, `/subscriptions?status=all`. Lists
come newest first in a Laravel-style envelope (`current_page, data, last_page, next_page_url`,
...); an empty list is HTTP 200 with `{"error": "No supporters"}` and no `data`. Times are
"YYYY-MM-DD HH:MM:SS" with no zone: read as UTC, and said so wherever they are shown. A
payment's amount is coffees x price; the price is a string ("5.0000"), read as an exact
Decimal; `is_refunded` is null, 1 or "1".

Every way a read can fail is one sentence (an AdminError with exit code 2): no token, a token
refused (401), a network error or timeout, too many requests (429, after waiting what its
Retry-After asks a few times), a reply that isn't what the API documents. Pages are fetched a
few at a time (politely: at most CONCURRENCY in flight, and all of them wait out a 429), never
following a reply's own absolute URLs: the token goes only to the base URL configured.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from adminui import remote
from adminui.errors import AdminError

DEFAULT_API = "https://developers.buymeacoffee.com/api/v1"
API_ENV = "ADMINUI_BMC_API"
TOKEN_ENV = "ADMINUI_BMC_TOKEN"
KEYRING_USER = "bmc:{profile}"  # the keyring entry's user; its service is adminui's
TIMEOUT = 15.0  # seconds for one reply
CONCURRENCY = 4  # pages in flight at once
RETRIES = 4  # 429s waited out per request before giving up
LONGEST_WAIT = 60.0  # a Retry-After longer than this is not waited out: said instead
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
KINDS = {"support": "supporters", "extra": "extras", "membership": "subscriptions"}
# A reference as the team's receipts write it, by kind of payment (a support is BMC-<id>).
REFERENCE_PREFIX = {"support": "BMC-", "extra": "BMC-EXTRA-", "membership": "BMC-MEMBER-"}


class BmcError(AdminError):
    """Buy Me a Coffee could not be read: nothing that depends on it was done."""

    exit_code = 2


@dataclass(frozen=True)
class Payment:
    """One payment at Buy Me a Coffee: a one-off support, an extra, or a membership."""

    kind: str  # support, extra, membership
    id: int
    payer_name: str
    payer_email: str
    amount: Decimal
    currency: str
    created: datetime  # UTC
    refunded: bool
    coffees: int | None = None
    price: Decimal | None = None
    note: str = ""
    supporter_name: str = ""
    support_email: str = ""
    refunded_at: datetime | None = None
    transaction_id: str = ""
    platform: str = ""
    status: str = ""  # a membership's (active, cancelled)

    @property
    def reference(self) -> str:
        """The reference a receipt of this payment carries: BMC-<support id>."""
        return f"{REFERENCE_PREFIX[self.kind]}{self.id}"

    @property
    def emails(self) -> tuple[str, ...]:
        """The addresses the payment names (the payer's, and the one the supporter gave)."""
        return tuple(dict.fromkeys(e for e in (self.payer_email, self.support_email) if e))

    def plain(self) -> dict[str, Any]:
        """The payment as --format json|csv gives it (BMC's own meaning, adminui's names)."""
        return {
            "kind": self.kind,
            "id": self.id,
            "reference": self.reference,
            "payer_name": self.payer_name,
            "payer_email": self.payer_email,
            "amount": self.amount,
            "currency": self.currency,
            "coffees": self.coffees,
            "price": self.price,
            "created_utc": self.created,
            "refunded": self.refunded,
            "refunded_at_utc": self.refunded_at,
            "note": self.note,
            "transaction_id": self.transaction_id,
            "platform": self.platform,
        }


def read_time(value: Any, field: str) -> datetime:
    """A BMC time ("2020-08-05 09:38:26", no zone) as the UTC instant it is taken to be."""
    try:
        return datetime.strptime(str(value).strip(), TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{field} is {str(value)[:40]!r}, not YYYY-MM-DD HH:MM:SS") from None


MOST = Decimal(1_000_000)  # no price, coffee count or amount of a real payment reaches this


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field} is {str(value)[:40]!r}, not an amount") from None
    if not amount.is_finite() or not 0 <= amount < MOST:
        raise ValueError(f"{field} is {str(value)[:40]!r}, not an amount")
    return amount


def _whole(value: Any, field: str) -> int:
    text = str(value)
    if isinstance(value, bool) or not isinstance(value, int | str) or not text.isdigit():
        raise ValueError(f"{field} is {text[:40]!r}, not a whole number")
    if len(text) > 15:
        raise ValueError(f"{field} is {text[:40]!r}, not a number BMC gives")
    return int(value)


def _flag(value: Any) -> bool:
    """BMC's yes/no: null, 0/1, "0"/"1" (and true/false)."""
    return value not in (None, 0, "0", "", False, "false")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def parse_support(item: dict[str, Any]) -> Payment:
    """A supporter object of the API. Raises ValueError naming what is wrong."""
    coffees = _whole(item["support_coffees"], "support_coffees")
    if coffees >= MOST:
        raise ValueError(f"support_coffees is {coffees}, not a number of coffees")
    price = _money(item["support_coffee_price"], "support_coffee_price")
    refunded_at = item.get("refunded_at")
    return Payment(
        kind="support",
        id=_whole(item["support_id"], "support_id"),
        payer_name=_text(item.get("payer_name")),
        payer_email=_text(item.get("payer_email")),
        amount=(coffees * price).quantize(Decimal("0.01")),
        currency=_text(item["support_currency"]).upper(),
        created=read_time(item["support_created_on"], "support_created_on"),
        refunded=_flag(item.get("is_refunded")),
        coffees=coffees,
        price=price,
        note=_text(item.get("support_note")),
        supporter_name=_text(item.get("supporter_name")),
        support_email=_text(item.get("support_email")),
        refunded_at=read_time(refunded_at, "refunded_at") if refunded_at else None,
        transaction_id=_text(item.get("transaction_id")),
        platform=_text(item.get("payment_platform")),
    )


def parse_extra(item: dict[str, Any]) -> Payment:
    """An extra's purchase (purchase_id, purchase_amount, purchase_is_revoked, ...)."""
    return Payment(
        kind="extra",
        id=_whole(item["purchase_id"], "purchase_id"),
        payer_name=_text(item.get("purchase_payer_name")),
        payer_email=_text(item.get("purchase_payer_email")),
        amount=_money(item["purchase_amount"], "purchase_amount").quantize(Decimal("0.01")),
        currency=_text(item["purchase_currency"]).upper(),
        created=read_time(item["purchased_on"], "purchased_on"),
        refunded=_flag(item.get("purchase_is_revoked")),
        note=_text((item.get("extra") or {}).get("reward_title")),
    )


def parse_membership(item: dict[str, Any]) -> Payment:
    """A membership (subscription_id, coffee num x price per period, cancelled or not)."""
    coffees = _whole(item["subscription_coffee_num"], "subscription_coffee_num")
    price = _money(item["subscription_coffee_price"], "subscription_coffee_price")
    cancelled = _flag(item.get("subscription_is_cancelled"))
    return Payment(
        kind="membership",
        id=_whole(item["subscription_id"], "subscription_id"),
        payer_name=_text(item.get("payer_name")),
        payer_email=_text(item.get("payer_email")),
        amount=(coffees * price).quantize(Decimal("0.01")),
        currency=_text(item["subscription_currency"]).upper(),
        created=read_time(item["subscription_created_on"], "subscription_created_on"),
        refunded=False,
        coffees=coffees,
        price=price,
        note=_text(item.get("subscription_message")),
        transaction_id=_text(item.get("transaction_id")),
        status="cancelled" if cancelled else "active",
    )


PARSERS: dict[str, Callable[[dict[str, Any]], Payment]] = {
    "support": parse_support,
    "extra": parse_extra,
    "membership": parse_membership,
}


def api_base(configured: str | None) -> str:
    """The API's base URL: $ADMINUI_BMC_API, else the profile's bmc_api, else BMC's own."""
    return remote.api_base(API_ENV, configured, DEFAULT_API, "Buy Me a Coffee")


class BmcClient:
    """The API, read with one token: one request per payment looked up, pages of a list a few
    at a time. `sleep` is how a 429's wait is spent (tests pass a recorder)."""

    def __init__(
        self,
        token: str,
        base: str = DEFAULT_API,
        *,
        timeout: float = TIMEOUT,
        concurrency: int = CONCURRENCY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx  # only where BMC is read: no other command pays for its import

        self.base = base.rstrip("/")
        self.timeout = timeout
        self.concurrency = concurrency
        self._sleep = sleep
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,  # a redirect could carry the token elsewhere
            trust_env=remote.proxies_allowed(self.base),
            limits=httpx.Limits(max_connections=concurrency),
        )
        self._lock = threading.Lock()
        self._not_before = 0.0  # a 429's Retry-After holds back every request until then
        self._cancelled: Callable[[], bool] = lambda: False
        self.requests = 0  # how many were sent (a test and the bench count them)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BmcClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def payment(self, kind: str, payment_id: int) -> Payment | None:
        """One payment by its id (None: BMC has no such payment), in one request."""
        path = f"/{KINDS[kind]}/{payment_id}"
        reply = self._get(path, {}, missing_ok=True)
        if reply is None:
            return None
        return self._parsed(path, reply, PARSERS[kind])

    def payments(
        self,
        kind: str,
        since: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> list[Payment]:
        """Every payment of a kind, newest first, back to `since` (None: all): the first page,
        then the rest a few at a time, stopping after the pages that reach back past `since`."""
        path = f"/{KINDS[kind]}"
        params = {"status": "all"} if kind == "membership" else {}
        self._cancelled = cancelled  # a 429's wait ends early when the reader gives up
        items, last = self._page(path, params, 1, PARSERS[kind])
        # By id: a payment made while the pages are read pushes the others one place on, so one
        # comes twice (kept once); the last page, as the latest reply says, is read too.
        found = {p.id: p for p in items}
        page = 2
        while page <= last and not _reaches(found.values(), since) and not cancelled():
            batch = range(page, min(last, page + self.concurrency - 1) + 1)
            with ThreadPoolExecutor(len(batch)) as pool:
                pages = list(pool.map(lambda n: self._page(path, params, n, PARSERS[kind]), batch))
            for items, page_last in pages:
                for payment in items:
                    found.setdefault(payment.id, payment)
                last = max(last, page_last)
            page = batch[-1] + 1
            if progress:
                progress(page - 1, last)
        if cancelled():
            raise AdminError("Stopped; nothing was done.")
        return [p for p in found.values() if since is None or p.created >= since]

    def _page(
        self, path: str, params: dict[str, str], number: int, parse: Callable
    ) -> tuple[list[Payment], int]:
        """One page: its payments and the number of the last page (the envelope's)."""
        where = f"{path}?page={number}"
        reply = self._get(path, {**params, "page": str(number)})
        assert reply is not None
        if isinstance(reply, dict) and "data" not in reply and isinstance(reply.get("error"), str):
            said = reply["error"].strip()
            if number == 1 and said.casefold() == f"no {path.strip('/')}":
                return [], 0  # BMC's empty list: HTTP 200 with {"error": "No supporters"}
            raise BmcError(
                f"Buy Me a Coffee answered GET {where} with an error: {said[:120]!r}; nothing "
                "was done."
            )
        if not isinstance(reply, dict) or not isinstance(reply.get("data"), list):
            raise self._malformed(where, "no data list")
        try:
            last = _whole(reply.get("last_page", 1), "last_page")
        except ValueError as error:
            raise self._malformed(where, str(error)) from None
        return [self._parsed(where, item, parse) for item in reply["data"]], last

    def _parsed(self, where: str, item: Any, parse: Callable[[dict[str, Any]], Payment]) -> Payment:
        try:
            if not isinstance(item, dict):
                raise ValueError("an item is not an object")
            return parse(item)
        except KeyError as error:
            raise self._malformed(where, f"{error.args[0]} is missing") from None
        except ValueError as error:
            raise self._malformed(where, str(error)) from None

    def _malformed(self, where: str, why: str) -> BmcError:
        return BmcError(
            f"Buy Me a Coffee's reply to GET {where} is not what its API documents ({why}); "
            "nothing was done."
        )

    def _get(self, path: str, params: dict[str, str], *, missing_ok: bool = False) -> Any:
        """One GET, waiting out 429s; the reply's JSON (None for a 404 when `missing_ok`)."""
        import httpx

        url = f"{self.base}{path}"
        for attempt in range(RETRIES + 1):
            self._wait_turn()
            try:
                with self._lock:
                    self.requests += 1
                reply = self._http.get(url, params=params)
            except httpx.TimeoutException:
                raise BmcError(
                    f"Buy Me a Coffee did not answer GET {path} within {self.timeout:g} s; "
                    "nothing was done."
                ) from None
            except httpx.HTTPError as error:
                raise BmcError(
                    f"Can't reach Buy Me a Coffee at {urlsplit(self.base).netloc} "
                    f"({type(error).__name__}); nothing was done."
                ) from None
            if reply.status_code == 429:
                wait = _retry_after(reply.headers.get("Retry-After"))
                if attempt == RETRIES or wait > LONGEST_WAIT:
                    raise BmcError(
                        f"Buy Me a Coffee asks to slow down (HTTP 429) and still did after "
                        f"{attempt + 1} tries; try again in {wait:g} s. Nothing was done."
                    )
                with self._lock:
                    self._not_before = max(self._not_before, time.monotonic() + wait)
                continue
            return self._json(path, reply, missing_ok)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _json(self, path: str, reply: Any, missing_ok: bool) -> Any:
        if reply.status_code == 401:
            raise BmcError(
                "Buy Me a Coffee refused the token (HTTP 401): make a new one in its developer "
                "dashboard and store it with 'adminui bmc token set'. Nothing was done."
            )
        if reply.status_code == 404 and missing_ok:
            return None
        if reply.status_code != 200:
            raise BmcError(
                f"Buy Me a Coffee answered GET {path} with HTTP {reply.status_code}; nothing "
                "was done."
            )
        try:
            return reply.json()
        except ValueError:
            raise self._malformed(path, "not JSON") from None

    def _wait_turn(self) -> None:
        """Hold a request back while a 429's Retry-After runs, a moment at a time, so that a
        reader who gives up (Esc, leaving the screen) is not kept waiting."""
        while True:
            with self._lock:
                wait = self._not_before - time.monotonic()
            if wait <= 0:
                return
            if self._cancelled():
                raise AdminError("Stopped; nothing was done.")
            self._sleep(min(wait, 0.25))


def _reaches(found: Iterable[Payment], since: datetime | None) -> bool:
    """Whether newest-first pages already reach back past `since`."""
    return since is not None and any(p.created < since for p in found)


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds: a number, or an HTTP date (1 s when absent or unreadable)."""
    if value is None:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
