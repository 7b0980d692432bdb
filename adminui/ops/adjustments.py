"""Credit adjustments for a product whose balance is a column with no ledger (filepath, seed
000: user.credit_balance, and each API key's apikey.credit_balance). Nothing in the database
records such a change, so the audit log's intent line is its record (the inputs, the balance
before and after as read inside the transaction), written before COMMIT as for every write;
the screen and the CLI say so before the write, and the receipt can be kept.

A reference, when given, is looked for in that record: an adjustment of this database already
logged with it (committed, or with no outcome seen) is refused unless overridden with a reason
covering exactly those. The look runs again inside the write transaction, whose SQLite write
lock makes a second operator on this machine wait for the first's intent line; an adjustment
made from another machine is in that machine's log only (said on the screen and in the CLI).
An adjustment that takes credits never leaves the balance below zero without a second yes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from adminui import audit
from adminui.db import Database, Reply, Transaction
from adminui.errors import InputError, NotFoundError
from adminui.ops.credits import (
    MAX_REASON,
    MAX_REFERENCE,
    checked_text,
    parse_credits,
    plain_reference,
)
from adminui.ops.writes import Batch, Written, audited_batch, audited_write

MODEL = "balance column"  # the pack manifest's balance model these adjustments are for
OPERATION = "adjust"
RECORD = "this schema has no ledger table: the audit log's line is the record"


@dataclass(frozen=True)
class Adjustment:
    """A validated adjustment: `credits` signed (never 0); `apikey` an API key's id, whose
    balance moves instead of the user's."""

    credits: int
    reason: str
    reference: str | None
    apikey: str | None
    override_reason: str | None


def parse_adjustment(
    credits: str | int,
    reason: str | None,
    reference: str | None = None,
    apikey: str | None = None,
    override_reason: str | None = None,
    *,
    max_credits: int,
) -> Adjustment:
    """What the operator typed, checked; +N adds, -N takes, each within max_grant_credits."""
    signed = re.fullmatch(r"([+-]?)([0-9]{1,12})", str(credits).strip())
    if signed is None:
        raise InputError("credits", f"write +N to add or -N to take, not {str(credits)[:40]!r}")
    why = checked_text("reason", reason, MAX_REASON)
    if why is None:
        raise InputError("reason", "required: with no ledger, it is what the record keeps of why")
    ref = checked_text("reference", reference, MAX_REFERENCE)
    if ref is not None and not ref.isascii():
        raise InputError("reference", "write it in ASCII (as a payment's own id is)")
    return Adjustment(
        credits=parse_credits(signed[2], max_credits) * (-1 if signed[1] == "-" else 1),
        reason=why,
        reference=plain_reference(ref, "reference") if ref else None,
        apikey=checked_text("API key", apikey, MAX_REFERENCE),
        override_reason=checked_text("override reason", override_reason, MAX_REASON),
    )


@dataclass(frozen=True)
class Holder:
    """The balance an adjustment moves: the user's, or one of their API keys' (`key` its
    row: id, name, start, enabled, expiry, budget_cap)."""

    credits: int
    key: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return "API key" if self.key else "user"

    @property
    def label(self) -> str:
        if self.key is None:
            return "the user's credit_balance"
        shown = " ".join(str(v) for v in (self.key["name"], self.key["start"]) if v)
        return f"API key {shown or self.key['id']} ({self.key['id']})"


@dataclass(frozen=True)
class AdjustPreview:
    """What an adjustment would do, before anything is written; `earlier` are the adjustments
    of this database the audit log holds with the same reference."""

    user_id: str
    email: str
    name: str | None
    adjustment: Adjustment
    before: Holder
    earlier: tuple[dict[str, Any], ...]

    @property
    def after(self) -> int:
        return self.before.credits + self.adjustment.credits

    @property
    def below_zero(self) -> bool:
        return self.after < 0

    @property
    def over_cap(self) -> bool:
        """An API key left holding more than its budget cap (NULL: uncapped)."""
        cap = self.before.key["budget_cap"] if self.before.key else None
        return cap is not None and self.after > cap

    @property
    def grant(self) -> Adjustment:
        """The adjustment, by the name the grant screen gives what it writes."""
        return self.adjustment

    @property
    def needs_override(self) -> bool:
        return bool(self.earlier)

    @property
    def earlier_rows(self) -> list[tuple[str, str, str, str]]:
        """The earlier adjustments as the CLI and the screen list them: logged when (UTC, to
        the second), by whom, how many credits, and their outcome."""
        return [
            (
                str(e.get("time", "?"))[:19].replace("T", " "),
                str(e.get("operator", "?")),
                str((e.get("inputs") or {}).get("credits", "?")),
                str(e.get("outcome") or "no outcome"),
            )
            for e in self.earlier
        ]

    @property
    def earlier_ids(self) -> frozenset[str]:
        return frozenset(str(e["write"]) for e in self.earlier)


@dataclass(frozen=True)
class Adjusted:
    """An adjustment as read back inside its transaction."""

    preview: AdjustPreview
    previous: int
    new: int
    operator: str
    at: datetime
    warning: str | None = None

    def receipt_lines(self) -> list[tuple[str, str]]:
        p, a = self.preview, self.preview.adjustment
        return [
            ("User", f"{p.email} ({p.user_id})"),
            ("Balance", p.before.label),
            ("Credits", f"{a.credits:+,}"),
            ("Previous Credits", f"{self.previous:,}"),
            ("New Credits", f"{self.new:,}"),
            ("Reason", a.reason),
            *([("Reference", a.reference)] if a.reference else []),
            *([("Override", a.override_reason)] if p.earlier else []),
            ("Operator", self.operator),
            ("At", f"{self.at:%Y-%m-%d %H:%M:%S} UTC"),
            ("Recorded", "in the audit log only (no ledger table)"),
        ]

    def receipt_text(self) -> str:
        return "\n".join(f"{label + ':':<19}{value}" for label, value in self.receipt_lines())

    def record(self) -> dict[str, Any]:
        """One JSON object for scripts, in the product's column names where it has them."""
        key = self.preview.before.key
        return {
            "user_id": self.preview.user_id,
            "email": self.preview.email,
            "apikey_id": key["id"] if key else None,
            "credits": self.preview.adjustment.credits,
            "previous_credit_balance": self.previous,
            "new_credit_balance": self.new,
            "reason": self.preview.adjustment.reason,
            "reference": self.preview.adjustment.reference,
            "operator": self.operator,
            "at": self.at,
            "recorded": "audit log",
        }


def _earlier(db: Database, reference: str | None) -> tuple[dict[str, Any], ...]:
    """The adjustments of this database the audit log holds with the reference (any case or
    surrounding spaces), unless recorded as rolled back."""
    if reference is None:
        return ()
    log = audit.verify()
    if log.broken:  # the record is the log: a check that reads half of it would pass a repeat
        raise InputError(
            "reference",
            f"the audit log {log.path} can't be read whole ({log.broken}), so the reference "
            "can't be checked; see adminui audit verify. Nothing was written",
        )
    key = reference.strip().casefold()
    return tuple(
        write
        for write in log.writes
        if write.get("operation") == OPERATION
        and write.get("host") == db.profile.where
        and str((write.get("inputs") or {}).get("reference") or "").strip().casefold() == key
        and write.get("outcome") != "rolled back"
    )


def _user(tx: Transaction, user_id: str) -> Any:
    user = tx.one("user_balance", user_id=user_id)
    if user is None:
        raise NotFoundError(f"No user has the id {user_id}.")
    return user


def _holder(tx: Transaction, user: Any, apikey: str | None) -> Holder:
    """The balance the adjustment moves, as stored now: the user's row, or the key's read
    now; one that is not a whole number (SQLite keeps text in an INTEGER column) is refused,
    never read as zero."""
    row, key = user, None
    if apikey is not None:
        row = tx.one("apikey_balance", user_id=user["id"], apikey_id=apikey)
        if row is None:
            raise NotFoundError(f"The user has no API key with the id {apikey!r}.")
        key = {k: row[k] for k in ("id", "name", "start", "enabled", "expires_at", "budget_cap")}
    if type(row["credits"]) is not int:
        raise InputError(
            "credits",
            f"the stored balance is {row['stored']!r}, not a whole number; nothing was written "
            "(correct it by hand first)",
        )
    return Holder(row["credits"], key)


def _preview(db: Database, tx: Transaction, user_id: str, adjustment: Adjustment) -> AdjustPreview:
    """The user, the balance as this transaction sees it, and the audit log's adjustments
    with the reference: what the preview shows and the write checks again."""
    user = _user(tx, user_id)
    before = _holder(tx, user, adjustment.apikey)
    earlier = _earlier(db, adjustment.reference)
    return AdjustPreview(user_id, user["email"], user["name"], adjustment, before, earlier)


def preview_adjustment(db: Database, user_id: str, adjustment: Adjustment) -> AdjustPreview:
    """What the adjustment would do, read now."""
    with db.read() as tx:
        return _preview(db, tx, user_id, adjustment)


def _refuse_earlier(preview: AdjustPreview, seen: frozenset[str]) -> None:
    a = preview.adjustment
    if not preview.earlier:
        return
    if not a.override_reason:
        first = preview.earlier[0]
        raise InputError(
            "reference",
            f"{a.reference!r} is on {len(preview.earlier)} adjustment(s) in the audit log "
            f"(first: {first.get('time', '?')} by {first.get('operator', '?')}); override with a "
            "reason if this really is another payment",
        )
    if preview.earlier_ids != seen:
        raise InputError(
            "reference",
            "adjustments with this reference were logged since the preview; preview again "
            "and check them before overriding",
        )


def adjust(
    db: Database,
    user_id: str,
    adjustment: Adjustment,
    operator: str,
    *,
    below_zero: bool = False,
    seen_earlier: frozenset[str] = frozenset(),
    after_move: Callable[[], None] | None = None,
    preview: AdjustPreview | None = None,
) -> Adjusted:
    """Move the balance in one audited transaction, checked again inside it: the reference
    against the audit log, the balance against zero (unless `below_zero`, the operator's
    second yes), and the balance read back as exactly what it was plus the change;
    `after_move` runs just after the UPDATE (tests kill the process there). Where no
    transaction can be held open (D1's API), one batch: the move only if the balance is still
    `preview`'s (the one the operator was shown; read now if not given), and its read-back."""
    at = datetime.now(UTC).replace(microsecond=0)
    if not db.holds_transactions:
        shown = preview or preview_adjustment(db, user_id, adjustment)
        return _adjust_in_one_batch(db, shown, operator, below_zero, seen_earlier, at)

    def body(tx: Transaction) -> Written[Adjusted]:
        preview = _preview(db, tx, user_id, adjustment)
        _allowed(preview, seen_earlier, below_zero)
        name, values = _move(preview)
        moved = tx.run(name, **values)
        if after_move is not None:
            after_move()
        after = _holder(tx, _user(tx, user_id), adjustment.apikey).credits
        if moved != 1 or after != preview.after:
            raise InputError("credits", "the balance changed meanwhile; nothing was written")
        return _written(preview, operator, at, after, below_zero)

    done, warning = audited_write(db, operator, OPERATION, body, None)
    return done if warning is None else replace(done, warning=warning)


def _allowed(preview: AdjustPreview, seen_earlier: frozenset[str], below_zero: bool) -> None:
    """Refuse a repeated reference not overridden, and going below zero without the yes."""
    _refuse_earlier(preview, seen_earlier)
    if preview.below_zero and not below_zero:
        raise InputError(
            "credits",
            f"the balance is {preview.before.credits:,}: {preview.adjustment.credits:+,} would "
            f"leave {preview.after:,}. Confirm going below zero to adjust anyway",
        )


def _move(preview: AdjustPreview) -> tuple[str, dict[str, Any]]:
    """The UPDATE that moves the balance, only if it is still the one `preview` read."""
    values = {
        "user_id": preview.user_id,
        "credits": preview.adjustment.credits,
        "before": preview.before.credits,
    }
    if preview.before.key is None:
        return "add_user_credits", values
    return "add_apikey_credits", {**values, "apikey_id": preview.before.key["id"]}


def _written(
    preview: AdjustPreview, operator: str, at: datetime, after: int, below_zero: bool
) -> Written[Adjusted]:
    """The adjustment as read back, and what its audit line records."""
    adjustment = preview.adjustment
    inputs = {
        "user_id": preview.user_id,
        "apikey_id": adjustment.apikey,
        "credits": adjustment.credits,
        "reason": adjustment.reason,
        "reference": adjustment.reference,
        "override_reason": adjustment.override_reason,
        "below_zero": below_zero,
        "record": RECORD,
    }
    return Written(
        Adjusted(preview, preview.before.credits, after, operator, at),
        inputs,
        {"user_id": preview.user_id, "apikey_id": adjustment.apikey},
        {"credit_balance": preview.before.credits},
        {"credit_balance": after},
    )


def _adjust_in_one_batch(
    db: Database,
    preview: AdjustPreview,
    operator: str,
    below_zero: bool,
    seen_earlier: frozenset[str],
    at: datetime,
) -> Adjusted:
    """The move as one batch with its read-back: the UPDATE only if the balance is still the
    one the operator was shown; nothing changed, and said so, when it moved since. The audit
    log's adjustments of the reference are read again with its intent line written, alone on
    this machine (the log is the record: two operators here can't both pass the check)."""
    _allowed(preview, seen_earlier, below_zero)

    def rechecked() -> None:
        earlier = _earlier(db, preview.adjustment.reference)
        _allowed(replace(preview, earlier=earlier), seen_earlier, below_zero)

    name, values = _move(preview)
    key = preview.before.key
    read_back = (
        ("user_balance", {"user_id": preview.user_id})
        if key is None
        else ("apikey_balance", {"user_id": preview.user_id, "apikey_id": key["id"]})
    )
    planned = _written(preview, operator, at, preview.after, below_zero)

    def result(replies: list[Reply]) -> Adjusted:
        moved, balance = replies
        now = balance.rows[0]["credits"] if balance.rows else None
        if moved.count != 1:
            raise InputError(
                "credits",
                f"nothing was changed: the balance moved since the preview "
                f"({preview.before.credits:,} then, {'none' if now is None else f'{now:,}'} "
                "now); preview again",
            )
        return replace(planned.result, new=now)

    batch = Batch(
        [(name, values), read_back],
        planned.inputs,
        planned.ids,
        planned.before,
        planned.after,
        result,
    )
    done, warning = audited_batch(db, operator, OPERATION, batch, None, rechecked)
    return done if warning is None else replace(done, warning=warning)
