"""Credit grants: preview and grant paid credits with a verified receipt, verify pending receipts,
refund receipts. Each write is one transaction that locks before it checks, reads back what it
wrote, and leaves an audit line.

Input is validated here, once, with errors that name the field: money is Decimal end to end
("5.00", never a float), credits are whole numbers within the configured maximum, references are
compared trimmed and case-insensitively, folded by the database on both sides (never by Python,
whose str.lower differs from PostgreSQL's lower for `İ` or a final `Σ`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adminui.db import Database, Transaction
from adminui.errors import DatabaseError, InputError, NotFoundError
from adminui.ops.values import as_datetime, as_id, as_money, like_pattern
from adminui.ops.writes import Written, audited_write

MAX_AMOUNT = Decimal("99999999.99")  # NUMERIC(10, 2)
MAX_CREDITS = 2_147_483_647  # INT; the configured max_grant_credits is usually far lower
MAX_REFERENCE = 200
MAX_NOTES = 2000
MAX_REASON = 500
MIN_TIME = datetime.min.replace(tzinfo=UTC)  # sorts a row without a time first
_AMOUNT = re.compile(r"^\d{1,8}(\.\d{1,2})?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class GrantInput:
    """A validated grant: what the operator asked for."""

    credits: int
    amount_usd: Decimal
    reference: str
    notes: str | None
    override_reason: str | None
    # A Buy Me a Coffee payment's reference and transaction id (ops.bmc): any receipt recording
    # it, under any form of its reference, refuses the grant inside the write.
    payment: tuple[str, str] | None = None


@dataclass(frozen=True)
class ReceiptInfo:
    """A receipt as the grant, verify and refund screens show it."""

    id: str
    user_id: str
    email: str | None
    amount_usd: Decimal | None
    credits_purchased: int
    bmc_reference: str | None
    status: str
    created_at: datetime | None
    notes: str | None = None
    verified_by: str | None = None
    verified_at: datetime | None = None


@dataclass(frozen=True)
class Balance:
    """A user's credits; `exists` is False when the usage_tracking row is missing (the
    balance is then the schema's defaults, which a grant creates)."""

    free: int
    paid: int
    exists: bool

    @property
    def total(self) -> int:
        return self.free + self.paid


@dataclass(frozen=True)
class GrantPreview:
    """What a grant would do, before anything is written."""

    user_id: str
    email: str
    name: str | None
    grant: GrantInput
    before: Balance
    after: Balance
    duplicates: tuple[ReceiptInfo, ...]

    @property
    def needs_override(self) -> bool:
        """The reference is already on a receipt: refused unless overridden with a reason."""
        return bool(self.duplicates)

    @property
    def duplicate_ids(self) -> frozenset[str]:
        """The duplicates shown, which an override covers (and no others)."""
        return frozenset(d.id for d in self.duplicates)


@dataclass(frozen=True)
class GrantResult:
    """The receipt written and the totals read back from the database."""

    receipt_id: str
    user_id: str
    email: str
    credits: int
    amount_usd: Decimal
    bmc_reference: str
    notes: str | None
    verified_by: str
    verified_at: datetime
    previous_total: int
    new_total: int
    warning: str | None = None

    def receipt_lines(self) -> list[tuple[str, str]]:
        """The receipt as label/value pairs, for the CLI summary, the screen and a saved copy."""
        return [
            ("User", self.email),
            ("Credits Added", f"{self.credits:,}"),
            ("Amount (USD)", str(self.amount_usd)),
            ("Previous Total", f"{self.previous_total:,}"),
            ("New Total", f"{self.new_total:,}"),
            ("Receipt ID", self.receipt_id),
            ("Reference", self.bmc_reference),
            ("Verified By", self.verified_by),
            ("Verified At", f"{self.verified_at:%Y-%m-%d %H:%M:%S} UTC"),
            *([("Notes", self.notes)] if self.notes else []),
        ]

    def receipt_text(self) -> str:
        """The receipt as plain text, to copy or save."""
        return "\n".join(f"{label + ':':<19}{value}" for label, value in self.receipt_lines())


def checked_text(
    field: str, value: str | None, limit: int, *, multiline: bool = False
) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InputError(field, f"at most {limit:,} characters (got {len(value):,})")
    bad = _CONTROL if multiline else re.compile(r"[\x00-\x1f\x7f]")
    if bad.search(value):
        raise InputError(field, "must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. from a non-UTF-8 command line
        raise InputError(field, "is not valid text (check the terminal's encoding)") from None
    return value


def parse_credits(value: str | int, maximum: int) -> int:
    """Whole credits from 1 to `maximum`, the configured max_grant_credits (never past the INT
    column's limit): one limit, named the same way whichever side it is missed on."""
    maximum = min(maximum, MAX_CREDITS)
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", text):
        raise InputError("credits", f"must be a whole number, not {text[:40]!r}")
    credits = int(text)
    if not 1 <= credits <= maximum:
        raise InputError(
            "credits", f"must be from 1 to {maximum:,} (max_grant_credits), not {credits:,}"
        )
    return credits


def parse_amount(value: str | Decimal) -> Decimal:
    """Dollars and cents: digits, at most two decimals, from 0.01 to 99,999,999.99."""
    text = str(value).strip().removeprefix("$")
    if not _AMOUNT.match(text):
        raise InputError(
            "amount_usd",
            f"write dollars and cents like 5.00 (at most 2 decimals), not {text[:40]!r}",
        )
    amount = Decimal(text)
    if amount > MAX_AMOUNT:
        raise InputError("amount_usd", f"at most {MAX_AMOUNT:,}")
    if amount == 0:  # a receipt records a payment: a paid grant of nothing paid is a mistake
        raise InputError(
            "amount_usd",
            "must be more than 0.00: a grant writes the receipt of a payment (paid credits)",
        )
    return amount.quantize(Decimal("0.01"))


def plain_reference(reference: str, field: str = "bmc_reference") -> str:
    """A reference as typed by a person: text whose characters look like what they are. Two
    references that only look the same (a zero-width space, a byte-order mark, a soft hyphen, a
    decomposed or full-width letter) are different keys to the database, so a second grant of
    one payment would pass the duplicate check: such characters are refused, named."""
    for char in reference:
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        if unicodedata.category(char) == "Cf":
            raise InputError(field, f"holds an invisible character ({name}); retype it")
        if unicodedata.normalize("NFKC", char) != char or unicodedata.combining(char):
            raise InputError(
                field,
                f"holds {name}, which looks like other text (write the plain letters or digits)",
            )
    if unicodedata.normalize("NFKC", reference) != reference:
        raise InputError(field, "is not in plain form; retype it")
    return reference


# The kinds of Buy Me a Coffee payment a reference may name, by the word before their number.
PAYMENT_KINDS = {"extra": "extra", "member": "membership", "": "support"}


def payment_key(reference: str | None) -> str | None:
    """The Buy Me a Coffee payment a reference names, as one key whatever form the team wrote
    it in (NFKC, letters and digits only, case folded, no leading "bmc", the number without
    leading zeros): BMC-245731, bmc 245731, #245731 and BMC-0245731 with an en dash are all
    '245731', BMC-EXTRA-12 is 'extra12'. None: it names no payment. The one rule for every check of
    "this payment is already on a receipt" (grant, verify, reconcile) and for their lock."""
    if not reference:
        return None
    text = "".join(c for c in unicodedata.normalize("NFKC", reference).casefold() if c.isalnum())
    text = text.removeprefix("bmc")
    for word in PAYMENT_KINDS:
        number = text.removeprefix(word)
        if text.startswith(word) and number.isdigit() and len(number) <= 18:
            return f"{word}{int(number)}"
    return None


def lock_key(reference: str) -> str:
    """What a grant or verify of this reference locks: the payment it names, in one form, so
    two forms of one payment wait for each other; any other reference as it is."""
    key = payment_key(reference)
    return reference if key is None else f"BMC-{key}"


Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class ReferenceLookup:
    """How every receipt of a reference is found: the statements to ask (sent with others in
    one round trip) and what their rows mean. The receipts, of any user and status, holding
    the reference (folded, as the database folds it) or naming the same Buy Me a Coffee
    payment under another form of it (or holding its transaction id)."""

    reference: str | None
    transaction_id: str = ""

    @property
    def calls(self) -> list[Call]:
        if not self.reference:
            return []
        asked = [self.reference, *([self.transaction_id] if self.transaction_id else [])]
        calls: list[Call] = [("receipts_by_reference", {"reference": r}) for r in asked]
        key = payment_key(self.reference)
        if key is not None:
            number = key.lstrip("abcdefghijklmnopqrstuvwxyz")
            calls.append(("receipts_mentioning", {"pattern": like_pattern(number)}))
        return calls

    def receipts(self, found: list[list[Any]]) -> list[Any]:
        """The receipts in the rows of `calls`, oldest first."""
        key = payment_key(self.reference)
        receipts = {
            as_id(row["id"]): row
            for (name, _), rows in zip(self.calls, found, strict=True)
            for row in rows
            if name == "receipts_by_reference" or payment_key(row["bmc_reference"]) == key
        }
        return sorted(
            receipts.values(),
            key=lambda r: (as_datetime(r["created_at"]) or MIN_TIME, as_id(r["id"])),
        )


def reference_receipts(
    tx: Transaction, reference: str | None, transaction_id: str = ""
) -> list[Any]:
    """Every receipt of a reference (see ReferenceLookup), in one round trip."""
    lookup = ReferenceLookup(reference, transaction_id)
    return lookup.receipts(tx.many(lookup.calls))


def split(found: list[list[Any]], *sizes: int) -> list[list[list[Any]]]:
    """The replies of several statements sent together, in groups of `sizes`, in order."""
    groups, start = [], 0
    for size in sizes:
        groups.append(found[start : start + size])
        start += size
    if start != len(found):
        raise ValueError(f"{len(found)} replies for groups of {sizes}")
    return groups


def parse_grant(
    credits: str | int,
    amount_usd: str | Decimal,
    reference: str | None,
    notes: str | None = None,
    override_reason: str | None = None,
    *,
    max_credits: int,
) -> GrantInput:
    """Validate what the operator typed; every refusal names its field."""
    ref = checked_text("bmc_reference", reference, MAX_REFERENCE)
    if ref is None:
        raise InputError(
            "bmc_reference",
            "required: it is how a payment is matched to its receipt and how "
            "a second grant for the same payment is caught",
        )
    return GrantInput(
        credits=parse_credits(credits, max_credits),
        amount_usd=parse_amount(amount_usd),
        reference=plain_reference(ref),
        notes=checked_text("notes", notes, MAX_NOTES, multiline=True),
        override_reason=checked_text("override reason", override_reason, MAX_REASON),
    )


def receipt_from_row(row: Any) -> ReceiptInfo:
    """A receipt row (any statement selecting the receipt columns) as a ReceiptInfo."""
    return ReceiptInfo(
        id=as_id(row["id"]),
        user_id=as_id(row["user_id"]),
        email=row["email"],
        amount_usd=as_money(row["amount_usd"]),
        credits_purchased=row["credits_purchased"],
        bmc_reference=row["bmc_reference"],
        status=row["status"],
        created_at=as_datetime(row["created_at"]),
        notes=row.get("notes"),
        verified_by=row.get("verified_by"),
        verified_at=as_datetime(row.get("verified_at")),
    )


def _balance(row: Any) -> Balance:
    if row is None:  # what the schema's defaults would give: 5 free, 0 paid
        return Balance(free=5, paid=0, exists=False)
    return Balance(row["free_expansions_remaining"], row["paid_credits_remaining"], True)


def _user(tx: Transaction, user_id: str) -> Any:
    return found_user(tx.rows("get_user", user_id=user_id), user_id)


def found_user(rows: list[Any], user_id: str) -> Any:
    """The user get_user found, or the refusal naming the id."""
    if not rows:
        raise NotFoundError(f"No user has the id {user_id}.")
    return rows[0]


def _credited(before: Balance, after: Balance, credits: int) -> None:
    """Refuse (rolling the write back) a write whose credits did not land on the balance: the
    credits row, locked and read back in the same transaction, must hold exactly `credits`
    more. Nothing else can have moved it meanwhile."""
    if not after.exists or after.paid - before.paid != credits:
        raise DatabaseError(
            f"the user's credits row did not take the {credits} credits (paid "
            f"{before.paid} before, {after.paid if after.exists else 'no row'} after); "
            "nothing was changed"
        )


def preview_grant(db: Database, user_id: str, grant: GrantInput) -> GrantPreview:
    """The user, their credits now and after, and every receipt already using the reference."""
    mine = ReferenceLookup(grant.reference)
    (user_rows,), found = split(
        db.read_many([("get_user", {"user_id": user_id}), *mine.calls]), 1, len(mine.calls)
    )
    user = found_user(user_rows, user_id)
    balance = _balance(user if user["has_usage_tracking"] else None)
    duplicates = mine.receipts(found)
    return GrantPreview(
        user_id=as_id(user["id"]),
        email=user["email"],
        name=user["name"],
        grant=grant,
        before=balance,
        after=Balance(balance.free, balance.paid + grant.credits, True),
        duplicates=tuple(receipt_from_row(r) for r in duplicates),
    )


def _duplicate_refusal(duplicates: list[Any], reference: str) -> InputError:
    first = duplicates[0]
    return InputError(
        "bmc_reference",
        f"{reference!r} is already on {len(duplicates)} receipt(s) (first: {as_id(first['id'])}, "
        f"{first['email'] or 'unknown user'}, {first['status']}); override with a reason if this "
        "really is a separate payment",
    )


def grant_credits(
    db: Database,
    user_id: str,
    grant: GrantInput,
    operator: str,
    *,
    seen_duplicates: frozenset[str] = frozenset(),
    before_writes: Callable[[], None] | None = None,
) -> GrantResult:
    """Create a verified receipt and add its paid credits, in one audited transaction.

    Locks the reference (PostgreSQL advisory lock) and the user's credits row before checking,
    so two operators can't both pass the duplicate check or lose each other's update. An
    override covers exactly the duplicates the operator saw (`seen_duplicates`, the preview's
    receipt ids): one that appeared since is refused. Three round trips on PostgreSQL: the
    locks and every check's reads (with BEGIN); the writes and their read-back; COMMIT (after
    the audit intent). `before_writes` runs with the locks held and the checks passed, before
    the writes go (tests use it to cut the connection there, or to widen a race).
    """
    now = datetime.now(UTC).replace(microsecond=0)
    paid = ReferenceLookup(*grant.payment) if grant.payment is not None else ReferenceLookup(None)
    mine = ReferenceLookup(grant.reference)

    def body(tx: Transaction) -> Written[GrantResult]:
        (user_rows, _lock), payment_found, found, (_created, usage) = split(
            tx.many(
                [
                    ("get_user", {"user_id": user_id}),
                    ("lock_reference", {"reference": lock_key(grant.reference)}),
                    *paid.calls,
                    *mine.calls,
                    ("create_usage", {"user_id": user_id}),
                    ("lock_usage", {"user_id": user_id}),
                ]
            ),
            2,
            len(paid.calls),
            len(mine.calls),
            2,
        )
        user = found_user(user_rows, user_id)
        if paid.receipts(payment_found):  # a BMC payment grants once: no override
            raise InputError(
                "--bmc",
                f"a receipt of this payment ({grant.reference}) was written since the "
                "preview; one payment grants once",
            )
        duplicates = mine.receipts(found)
        if duplicates and not grant.override_reason:
            raise _duplicate_refusal(duplicates, grant.reference)
        if duplicates and {as_id(d["id"]) for d in duplicates} != seen_duplicates:
            raise InputError(
                "bmc_reference",
                "receipts with this reference changed since the preview; "
                "preview again and check them before overriding",
            )
        before = _balance(usage[0] if usage else None)
        if before_writes is not None:
            before_writes()
        notes = grant.notes
        if duplicates:
            override = f"Duplicate reference overridden by {operator}: {grant.override_reason}"
            notes = f"{notes}\n{override}" if notes else override
        inserted, _added, usage = tx.many(
            [
                (
                    "insert_verified_receipt",
                    {
                        "user_id": user_id,
                        "amount_usd": grant.amount_usd,
                        "credits": grant.credits,
                        "reference": grant.reference,
                        "notes": notes,
                        "verified_by": operator,
                        "now": now,
                    },
                ),
                ("add_paid_credits", {"user_id": user_id, "credits": grant.credits}),
                ("lock_usage", {"user_id": user_id}),
            ]
        )
        after = _balance(usage[0] if usage else None)
        _credited(before, after, grant.credits)
        receipt = receipt_from_row({**inserted[0], "email": user["email"]})
        result = _grant_result(receipt, user["email"], before.total, after.total, fallback=now)
        inputs = {
            "user_id": user_id,
            "credits": grant.credits,
            "amount_usd": grant.amount_usd,
            "bmc_reference": grant.reference,
            "notes": grant.notes,
            "override_reason": grant.override_reason,
        }
        ids = {"receipt_id": receipt.id}
        return Written(result, inputs, ids, _totals(before), _totals(after))

    result, warning = audited_write(
        db,
        operator,
        "grant",
        body,
        _reread_grant,
    )
    return result if warning is None else replace(result, warning=warning)


def _reread_grant(db: Database, done: GrantResult) -> GrantResult | None:
    """A grant read back by its receipt's id (None: the receipt is not there)."""
    try:
        receipt = get_receipt(db, done.receipt_id)
    except NotFoundError:
        return None
    if receipt.bmc_reference != done.bmc_reference or receipt.user_id != done.user_id:
        return None
    return _grant_result(
        receipt, done.email, done.previous_total, done.new_total, fallback=done.verified_at
    )


def _grant_result(
    receipt: ReceiptInfo, email: str, previous_total: int, new_total: int, *, fallback: datetime
) -> GrantResult:
    """A grant's result: the receipt as the database holds it, and the totals around it."""
    return GrantResult(
        receipt_id=receipt.id,
        user_id=receipt.user_id,
        email=email,
        credits=receipt.credits_purchased,
        amount_usd=receipt.amount_usd or Decimal("0.00"),
        bmc_reference=receipt.bmc_reference or "",
        notes=receipt.notes,
        verified_by=receipt.verified_by or "",
        verified_at=receipt.verified_at or fallback,
        previous_total=previous_total,
        new_total=new_total,
    )


def _totals(balance: Balance) -> dict[str, int]:
    """A balance as the audit line records it."""
    return {"free": balance.free, "paid": balance.paid, "total": balance.total}


def get_receipt(db: Database, receipt_id: str) -> ReceiptInfo:
    """One receipt by id."""
    row = db.one("get_receipt", receipt_id=_receipt_id(receipt_id))
    if row is None:
        raise NotFoundError(f"No receipt has the id {receipt_id}.")
    return receipt_from_row(row)


def _receipt_id(text: str) -> str:
    value = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
        raise InputError("receipt id", f"{text[:60]!r} is not a receipt id (a UUID)")
    return value


def pending_receipts(db: Database, limit: int = 500) -> tuple[ReceiptInfo, ...]:
    """Receipts waiting for verification, oldest first."""
    return tuple(receipt_from_row(r) for r in db.rows("pending_receipts", limit=limit))


@dataclass(frozen=True)
class ReceiptChange:
    """A verified or refunded receipt, as read back, with the user's totals around it."""

    receipt: ReceiptInfo
    previous_total: int
    new_total: int
    credits_changed: int
    warning: str | None = None

    def describe(self, verb: str) -> str:
        """One line for the operator: 'Verified <id>: +5 credits for … (total 0 → 5).' (a
        change of nothing, as refunding a pending receipt is, says so: not '+0 credits')."""
        if not self.credits_changed:
            return f"{verb} {self.receipt.id} for {self.receipt.email}: no credits changed."
        return (
            f"{verb} {self.receipt.id}: {self.credits_changed:+,} credits for "
            f"{self.receipt.email} (total {self.previous_total:,} → {self.new_total:,})."
        )

    def record(self) -> dict[str, Any]:
        """The change as one JSON object for scripts."""
        return {
            "receipt_id": self.receipt.id,
            "email": self.receipt.email,
            "status": self.receipt.status,
            "credits_changed": self.credits_changed,
            "previous_total": self.previous_total,
            "new_total": self.new_total,
        }


@dataclass(frozen=True)
class VerifyPreview:
    """What verifying a pending receipt would do, and other receipts with its reference (the
    payment may already have been credited by hand)."""

    receipt: ReceiptInfo
    before: Balance
    duplicates: tuple[ReceiptInfo, ...]

    @property
    def after(self) -> Balance:
        return Balance(self.before.free, self.before.paid + self.receipt.credits_purchased, True)

    @property
    def duplicate_ids(self) -> frozenset[str]:
        return frozenset(d.id for d in self.duplicates)


def _check_receipt_credits(credits_purchased: int, action: str) -> None:
    """A receipt's credits come from the database: refuse values no grant could have made."""
    if not 1 <= credits_purchased <= MAX_CREDITS:
        raise InputError(
            "receipt",
            f"has {credits_purchased} credits_purchased; it can't be "
            f"{action} here (fix the row by hand)",
        )


def _others(lookup: ReferenceLookup, found: list[list[Any]], receipt_id: str) -> list[Any]:
    """The other receipts of a receipt's reference, or of the payment it names."""
    return [r for r in lookup.receipts(found) if as_id(r["id"]) != receipt_id]


def preview_verify(db: Database, receipt_id: str) -> VerifyPreview:
    """The pending receipt, the user's credits now and after, and same-reference receipts."""
    receipt = get_receipt(db, receipt_id)
    if receipt.status != "pending":
        raise InputError("receipt", f"is {receipt.status}, not pending; nothing to verify")
    _check_receipt_credits(receipt.credits_purchased, "verified")
    lookup = ReferenceLookup(receipt.bmc_reference)
    (user_rows,), found = split(
        db.read_many([("get_user", {"user_id": receipt.user_id}), *lookup.calls]),
        1,
        len(lookup.calls),
    )
    user = found_user(user_rows, receipt.user_id)
    others = _others(lookup, found, receipt.id)
    balance = _balance(user if user["has_usage_tracking"] else None)
    return VerifyPreview(receipt, balance, tuple(receipt_from_row(r) for r in others))


def verify_receipt(
    db: Database,
    receipt_id: str,
    operator: str,
    *,
    override_reason: str | None = None,
    seen_duplicates: frozenset[str] = frozenset(),
) -> ReceiptChange:
    """Grant a pending receipt's credits and mark it verified, in one transaction. Like a grant,
    it is refused when another receipt has the same reference, unless overridden with a reason
    that covers exactly the receipts the operator saw."""
    receipt_id = _receipt_id(receipt_id)
    reason = checked_text("override reason", override_reason, MAX_REASON)
    now = datetime.now(UTC).replace(microsecond=0)

    def body(tx: Transaction) -> Written[ReceiptChange]:
        locked = tx.one("lock_receipt", receipt_id=receipt_id)
        if locked is None:
            raise NotFoundError(f"No receipt has the id {receipt_id}.")
        if locked["status"] != "pending":
            raise InputError("receipt", f"is {locked['status']}, not pending; nothing to verify")
        _check_receipt_credits(locked["credits_purchased"], "verified")
        reference, user_id = locked["bmc_reference"], as_id(locked["user_id"])
        lookup = ReferenceLookup(reference)
        lock = [("lock_reference", {"reference": lock_key(reference)})] if reference else []
        (user_rows, *_), found, (_created, usage) = split(
            tx.many(
                [
                    ("get_user", {"user_id": user_id}),
                    *lock,
                    *lookup.calls,
                    ("create_usage", {"user_id": user_id}),
                    ("lock_usage", {"user_id": user_id}),
                ]
            ),
            1 + len(lock),
            len(lookup.calls),
            2,
        )
        found_user(user_rows, user_id)  # a receipt whose user is gone grants nothing
        others = _others(lookup, found, receipt_id)
        if others and not reason:
            raise _duplicate_refusal(others, locked["bmc_reference"])
        if others and {as_id(o["id"]) for o in others} != seen_duplicates:
            raise InputError(
                "bmc_reference",
                "receipts with this reference changed since the "
                "preview; look again before overriding",
            )
        notes = locked["notes"]
        if others:
            line = f"Duplicate reference overridden by {operator}: {reason}"
            notes = f"{notes}\n{line}" if notes else line
        before = _balance(usage[0] if usage else None)
        _marked, _added, usage, read_back = tx.many(
            [
                (
                    "mark_receipt_verified",
                    {"receipt_id": receipt_id, "verified_by": operator, "now": now, "notes": notes},
                ),
                ("add_paid_credits", {"user_id": user_id, "credits": locked["credits_purchased"]}),
                ("lock_usage", {"user_id": user_id}),
                ("get_receipt", {"receipt_id": receipt_id}),
            ]
        )
        if read_back[0]["status"] != "verified":  # not marked (still pending): roll all back
            raise InputError("receipt", "changed meanwhile; nothing was verified")
        after = _balance(usage[0] if usage else None)
        _credited(before, after, locked["credits_purchased"])
        receipt = receipt_from_row(read_back[0])
        change = ReceiptChange(receipt, before.total, after.total, after.paid - before.paid)
        inputs = {
            "receipt_id": receipt_id,
            "user_id": user_id,
            "credits": locked["credits_purchased"],
            "override_reason": reason,
        }
        ids = {"receipt_id": receipt_id}
        return Written(change, inputs, ids, _totals(before), _totals(after))

    change, warning = audited_write(db, operator, "verify", body, _reread_receipt)
    return replace(change, warning=warning)


def _reread_receipt(db: Database, change: ReceiptChange) -> ReceiptChange | None:
    """A verify or refund read back on a new connection: the receipt as this write left it
    (status, notes, who and when), or None when it is not so (the write is not there)."""
    try:
        receipt = get_receipt(db, change.receipt.id)
    except NotFoundError:
        return None
    ours = change.receipt
    same = (receipt.status, receipt.notes, receipt.verified_by, receipt.verified_at) == (
        ours.status,
        ours.notes,
        ours.verified_by,
        ours.verified_at,
    )
    return replace(change, receipt=receipt) if same else None


@dataclass(frozen=True)
class RefundPreview:
    """What a refund would take back. `shortfall` credits were already spent and stay spent."""

    receipt: ReceiptInfo
    before: Balance
    take_back: int
    shortfall: int

    @property
    def after(self) -> Balance:
        return Balance(self.before.free, self.before.paid - self.take_back, self.before.exists)


def _refund_plan(status: str, credits_purchased: int, balance: Balance) -> tuple[int, int]:
    """(credits to take back, credits already spent) for refunding a receipt."""
    if status == "refunded":
        raise InputError("receipt", "is already refunded")
    if status == "pending":  # its credits were never granted
        return 0, 0
    _check_receipt_credits(credits_purchased, "refunded")
    take = min(credits_purchased, balance.paid)
    return take, credits_purchased - take


def preview_refund(db: Database, receipt_id: str) -> RefundPreview:
    """The receipt, the user's credits, and how many credits a refund would take back."""
    receipt = get_receipt(db, receipt_id)
    with db.read() as tx:
        user = _user(tx, receipt.user_id)
    # A refund creates no usage_tracking row: a missing one has no paid credits to take back.
    balance = _balance(user) if user["has_usage_tracking"] else Balance(0, 0, False)
    take, shortfall = _refund_plan(receipt.status, receipt.credits_purchased, balance)
    return RefundPreview(receipt, balance, take, shortfall)


def refund_receipt(
    db: Database, receipt_id: str, reason: str, operator: str, *, accept_shortfall: bool = False
) -> ReceiptChange:
    """Mark a receipt refunded and take its paid credits back (never below zero), with the
    reason appended to its notes, in one transaction. If the user already spent some of the
    credits, refuses unless `accept_shortfall` (the operator's second confirmation)."""
    receipt_id = _receipt_id(receipt_id)
    why = checked_text("reason", reason, MAX_REASON)
    if why is None:
        raise InputError("reason", "required: say why the payment is refunded")
    now = datetime.now(UTC).replace(microsecond=0)

    def body(tx: Transaction) -> Written[ReceiptChange]:
        locked = tx.one("lock_receipt", receipt_id=receipt_id)
        if locked is None:
            raise NotFoundError(f"No receipt has the id {receipt_id}.")
        user_id = as_id(locked["user_id"])
        usage = tx.one("lock_usage", user_id=user_id)
        before = _balance(usage) if usage is not None else Balance(0, 0, False)
        status = locked["status"]
        take, shortfall = _refund_plan(status, locked["credits_purchased"], before)
        if shortfall and not accept_shortfall:
            raise InputError(
                "refund",
                f"the user already spent {shortfall} of these "
                f"{locked['credits_purchased']} credits; only {take} can be taken back. "
                "Confirm the shortfall to refund anyway",
            )
        if take and tx.run("take_paid_credits", user_id=user_id, credits=take) != 1:
            raise InputError("refund", "the user's paid credits changed meanwhile; try again")
        line = f"Refunded by {operator} on {now:%Y-%m-%d %H:%M} UTC: {why}"
        notes = f"{locked['notes']}\n{line}" if locked["notes"] else line
        tx.run("mark_receipt_refunded", receipt_id=receipt_id, from_status=status, notes=notes)
        usage = tx.one("lock_usage", user_id=user_id)
        after = _balance(usage) if usage is not None else before
        receipt = receipt_from_row(tx.one("get_receipt", receipt_id=receipt_id))
        change = ReceiptChange(receipt, before.total, after.total, after.paid - before.paid)
        inputs = {
            "receipt_id": receipt_id,
            "reason": why,
            "from_status": status,
            "accept_shortfall": accept_shortfall,
        }
        ids = {"receipt_id": receipt_id}
        return Written(change, inputs, ids, _totals(before), _totals(after))

    change, warning = audited_write(db, operator, "refund", body, _reread_receipt)
    return replace(change, warning=warning)
