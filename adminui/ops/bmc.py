"""Payments at Buy Me a Coffee against the product's receipts (issue 18): a payment looked up
before a grant, so a grant matches a real payment and one payment grants only once; and the
reconciliation of a window, exceptions first: paid but never granted, refunded at BMC but still
granted here, granted twice, a receipt whose payment BMC doesn't have, an amount that differs,
a pending receipt whose payment is there (to verify).

A payment is matched to receipts by the key its reference names (receipts_for_payment folds
BMC-245731, bmc 245731, #245731 and 245731 to one key) or by its transaction id. The payment's
source is the API client (adminui.bmc) or a CSV export (adminui.bmc_csv): both answer
`payment(kind, id)` and `payments(kind, since)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from adminui.bmc import CONCURRENCY, Payment
from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops import users
from adminui.ops.credits import (
    PAYMENT_KINDS,
    GrantInput,
    ReceiptInfo,
    payment_key,
    receipt_from_row,
    reference_receipts,
)

# The exceptions of a reconciliation, in the order they are listed, with what each means.
ISSUES = {
    "paid_not_granted": "paid at BMC, never granted here",
    "refunded_at_bmc": "refunded at BMC, still granted here: refund the receipt",
    "granted_twice": "one payment, more than one receipt granting it",
    "no_such_payment": "a receipt whose payment BMC doesn't have",
    "amount_differs": "the receipt's amount is not the payment's",
    "pending_matches": "a pending receipt whose payment is there: verify it",
}
LOOKUPS = 100  # payments looked up one by one for the receipts of a window, at most


class Source(Protocol):
    requests: int

    def payment(self, kind: str, payment_id: int) -> Payment | None: ...

    def payments(
        self,
        kind: str,
        since: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = ...,
    ) -> list[Payment]: ...


def parse_payment_id(text: str | int) -> int:
    """A support id as typed: 245731, BMC-245731 or #245731 (read by the rule that folds
    every reference, credits.payment_key)."""
    key = payment_key(str(text))
    if key is None or not key.isdigit():
        raise InputError("--bmc", f"a support id is a number, like 245731, not {str(text)[:40]!r}")
    return int(key)


def find(source: Source, email: str, since: datetime | None) -> list[Payment]:
    """The payments whose payer (or the address the supporter gave) is `email`, newest first:
    BMC has no email filter, so this pages through the window."""
    wanted = email.strip().casefold()
    if "@" not in wanted:
        raise InputError("EMAIL", f"{email[:60]!r} is not an email address")
    return [
        p
        for kind in ("support", "extra")
        for p in source.payments(kind, since)
        if wanted in (e.casefold() for e in p.emails)
    ]


def receipts_for(db: Database, reference: str, transaction_id: str = "") -> tuple[ReceiptInfo, ...]:
    """Every receipt, of any user and status, that records the payment the reference names
    (under any form of it), or whose reference is its transaction id."""
    with db.read() as tx:
        return tuple(receipt_from_row(r) for r in reference_receipts(tx, reference, transaction_id))


def user_email(db: Database, user: str) -> str:
    """The email of a user typed as an email or id (their payments are found by it)."""
    row = db.one("get_user", user_id=users.resolve_user(db, user))
    if row is None or not row["email"]:
        raise NotFoundError(f"No email is known for {user[:60]!r}.")
    return str(row["email"])


def payment_receipts(db: Database, payment: Payment) -> tuple[ReceiptInfo, ...]:
    return receipts_for(db, payment.reference, payment.transaction_id)


@dataclass(frozen=True)
class PaymentForGrant:
    """A payment checked for a grant (None: granted without reading it, the operator's manual
    path), and what the grant takes from it."""

    payment: Payment | None
    reference: str  # the payment's, whose receipts are checked again inside the write
    transaction_id: str
    amount_usd: Decimal
    notes: str


def _refuse_taken(taken: tuple[ReceiptInfo, ...], payment_id: int) -> None:
    if taken:
        first = taken[0]
        raise InputError(
            "--bmc",
            f"support {payment_id} is already on {len(taken)} receipt(s) (first: {first.id}, "
            f"{first.email or 'unknown user'}, {first.bmc_reference!r}, {first.status}): one "
            "payment grants once",
        )


def check_for_grant(
    db: Database,
    payment: Payment | None,
    payment_id: int,
    *,
    currencies: Iterable[str],
    amount: Decimal | None,
    amount_reason: str | None,
    fetched: datetime,
) -> PaymentForGrant:
    """Refuse a payment that can't grant (none at BMC, refunded, in a currency the team doesn't
    sell in, already on a receipt, an amount that differs without a reason); otherwise the
    receipt's amount and the notes that record the payment as fetched."""
    if payment is None:
        raise NotFoundError(
            f"Buy Me a Coffee has no support {payment_id}; check the id in its dashboard. "
            "Nothing was written."
        )
    if payment.refunded:
        when = f" on {payment.refunded_at:%Y-%m-%d %H:%M} UTC" if payment.refunded_at else ""
        raise InputError("--bmc", f"support {payment_id} was refunded at Buy Me a Coffee{when}")
    sold = tuple(currencies)
    if payment.currency not in sold:
        raise InputError(
            "--bmc",
            f"support {payment_id} was paid in {payment.currency}; the team sells in "
            f"{', '.join(sold)} (bmc_currencies in the config)",
        )
    _refuse_taken(payment_receipts(db, payment), payment_id)
    paid = payment.amount if payment.currency == "USD" else None
    if amount is None and paid is None:
        raise InputError(
            "AMOUNT",
            f"support {payment_id} is {payment.amount} {payment.currency}: give the amount in "
            "USD, with --amount-differs saying how it was converted",
        )
    chosen = amount if amount is not None else paid
    assert chosen is not None
    if chosen != paid and not amount_reason:
        raise InputError(
            "AMOUNT",
            f"{chosen} USD is not the payment's {payment.amount} {payment.currency}; pass "
            "--amount-differs REASON if that is right",
        )
    each = f" ({payment.coffees} x {payment.price})" if payment.coffees is not None else ""
    notes = (
        f"BMC support {payment.id}: {payment.amount} {payment.currency}{each} from "
        f"{payment.payer_email or 'no email'}, paid {payment.created:%Y-%m-%d %H:%M:%S} UTC; "
        f"fetched {fetched:%Y-%m-%d %H:%M:%S} UTC."
    )
    if chosen != paid:
        notes += f" Amount {chosen} USD differs: {amount_reason}."
    return PaymentForGrant(payment, payment.reference, payment.transaction_id, chosen, notes)


def check_unread(
    db: Database, payment_id: int, reason: str, amount: Decimal | None
) -> PaymentForGrant:
    """The operator's manual path, when the payment can't be read: the amount is theirs, the
    receipts are still checked, and the notes say it was not checked."""
    if amount is None:
        raise InputError("AMOUNT", "required when the payment is not read at Buy Me a Coffee")
    reference = f"BMC-{payment_id}"
    _refuse_taken(receipts_for(db, reference), payment_id)
    notes = f"BMC support {payment_id}: not checked at Buy Me a Coffee ({reason})."
    return PaymentForGrant(None, reference, "", amount, notes)


def payer_warning(payment: Payment | None, email: str) -> str:
    """A warning when the payment's emails are not the user's ('' when they match)."""
    if payment is None or email.casefold() in (e.casefold() for e in payment.emails):
        return ""
    return (
        f"The payer's email ({payment.payer_email or 'none'}) is not the user's ({email}): make "
        "sure this payment is theirs."
    )


def with_payment(grant: GrantInput, checked: PaymentForGrant) -> GrantInput:
    """The grant made for a payment: the payment's notes first, and its key, which the write
    checks again (a receipt of it written since the preview refuses the grant)."""
    notes = f"{checked.notes}\n{grant.notes}" if grant.notes else checked.notes
    return replace(grant, notes=notes, payment=(checked.reference, checked.transaction_id))


# A reconciliation's rows as the CLI's table and the screen's export give them.
MATCH_COLUMNS = (
    "issue",
    "payment_id",
    "paid_utc",
    "payer_email",
    "amount",
    "currency",
    "receipt_ids",
    "receipt_status",
    "receipt_amount_usd",
    "user_email",
)


@dataclass(frozen=True)
class Match:
    """A payment and the receipts that record it; `issue` is its exception ('' when fine)."""

    payment: Payment | None
    receipts: tuple[ReceiptInfo, ...]
    issue: str = ""

    @property
    def receipt(self) -> ReceiptInfo | None:
        """The receipt a fix acts on: the one still granted (refund it), the pending one
        (verify it), else the first."""
        wanted = {"refunded_at_bmc": ("verified", "pending"), "pending_matches": ("pending",)}
        statuses = wanted.get(self.issue, ())
        found = [r for r in self.receipts if r.status in statuses] or list(self.receipts)
        return found[0] if found else None

    def plain(self) -> dict[str, Any]:
        p, r = self.payment, self.receipts
        return {
            "issue": self.issue,
            "kind": p.kind if p else "",
            "payment_id": p.id if p else None,
            "payer_email": p.payer_email if p else "",
            "paid_utc": p.created if p else None,
            "amount": p.amount if p else None,
            "currency": p.currency if p else "",
            "refunded_at_bmc": p.refunded if p else None,
            "receipt_ids": ", ".join(x.id for x in r),
            "receipt_status": ", ".join(x.status for x in r),
            "receipt_amount_usd": ", ".join(str(x.amount_usd) for x in r),
            "bmc_reference": ", ".join(x.bmc_reference or "" for x in r),
            "user_email": ", ".join(x.email or "" for x in r),
        }


@dataclass(frozen=True)
class Reconciliation:
    since: datetime
    matches: tuple[Match, ...]  # exceptions first, then newest first
    memberships: tuple[Payment, ...] = ()
    not_looked_up: int = 0  # receipts whose payment was not looked up (over LOOKUPS)
    requests: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def exceptions(self) -> tuple[Match, ...]:
        return tuple(m for m in self.matches if m.issue)


def reconcile(
    db: Database,
    source: Source,
    since: datetime,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Reconciliation:
    """Every payment of the window beside the receipts that record it, and every receipt of the
    window whose payment isn't among them (looked up one by one: its payment may be older)."""
    payments = [
        p
        for kind in ("support", "extra")
        for p in source.payments(kind, since, progress, cancelled)
    ]
    memberships = source.payments("membership", None, None, cancelled)
    receipts = [(row, receipt_from_row(row)) for row in db.rows("bmc_receipts_since", since=since)]
    by_key: dict[str, list[ReceiptInfo]] = {}
    by_reference: dict[str, list[ReceiptInfo]] = {}
    for _, receipt in receipts:
        by_key.setdefault(payment_key(receipt.bmc_reference) or "", []).append(receipt)
        by_reference.setdefault(_folded(receipt.bmc_reference), []).append(receipt)
    matched: set[str] = set()
    matches = []
    for payment in dict.fromkeys(payments):  # a payment listed twice (paging drift) counts once
        mine = _receipts_of(payment, by_key, by_reference)
        matched |= {r.id for r in mine}
        matches.append(Match(payment, mine, _issue(payment, mine)))
    # The receipts no payment of the window records: each one's payment is looked up (it may
    # be older than the window), a few at a time.
    waiting = []
    for _, receipt in receipts:
        if receipt.id in matched:
            continue
        kind, payment_id = _names_payment(payment_key(receipt.bmc_reference))
        if payment_id is None:  # its reference names no payment: harmless once refunded
            issue = "" if receipt.status == "refunded" else "no_such_payment"
            matches.append(Match(None, (receipt,), issue))
        else:
            waiting.append((receipt, (kind, payment_id)))
    wanted = list(dict.fromkeys(named for _, named in waiting))[:LOOKUPS]
    found: dict[tuple[str, int], Payment | None] = {}
    if wanted and not cancelled():
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            looked = pool.map(lambda named: source.payment(*named), wanted)
            found = dict(zip(wanted, looked, strict=True))
    skipped = 0
    for receipt, named in waiting:
        if receipt.id in matched:  # the payment of another receipt records it too
            continue
        if named not in found:
            skipped += 1
            continue
        payment = found[named]
        if payment is None:
            issue = "" if receipt.status == "refunded" else "no_such_payment"
            matches.append(Match(None, (receipt,), issue))
            continue
        mine = payment_receipts(db, payment)
        matched |= {r.id for r in mine}
        matches.append(Match(payment, mine, _issue(payment, mine)))
    order = list(ISSUES)
    matches.sort(
        key=lambda m: (
            order.index(m.issue) if m.issue else len(order),
            -(m.payment.created.timestamp() if m.payment else 0),
        )
    )
    counts = {issue: sum(m.issue == issue for m in matches) for issue in ISSUES}
    return Reconciliation(
        since,
        tuple(matches),
        tuple(memberships),
        skipped,
        source.requests,
        counts,
    )


def _receipts_of(
    payment: Payment,
    by_key: dict[str, list[ReceiptInfo]],
    by_reference: dict[str, list[ReceiptInfo]],
) -> tuple[ReceiptInfo, ...]:
    found = {r.id: r for r in by_key.get(payment_key(payment.reference) or "", [])}
    if payment.transaction_id:
        found |= {r.id: r for r in by_reference.get(_folded(payment.transaction_id), [])}
    return tuple(found.values())


def _folded(reference: str | None) -> str:
    """A transaction id or reference compared whole: trimmed, case folded (they are ASCII)."""
    return (reference or "").strip().casefold()


def _names_payment(key: str | None) -> tuple[str, int | None]:
    """The payment a receipt's key names: (kind, id), id None when it names none."""
    for word, kind in PAYMENT_KINDS.items():
        number = (key or "").removeprefix(word)
        if key and key.startswith(word) and number.isdigit():
            return kind, int(number)
    return "support", None


def _issue(payment: Payment, receipts: tuple[ReceiptInfo, ...]) -> str:
    live = [r for r in receipts if r.status in ("verified", "pending")]
    verified = [r for r in receipts if r.status == "verified"]
    if payment.refunded:
        return "refunded_at_bmc" if live else ""
    if not live:  # none, or only receipts refunded here: the customer paid and holds nothing
        return "paid_not_granted"
    if len(live) > 1:  # a second pending receipt is a second grant waiting to be verified
        return "granted_twice"
    if not verified:
        return "pending_matches"
    if any(r.amount_usd != payment.amount or payment.currency != "USD" for r in verified):
        return "amount_differs"
    return ""
