"""Grants and refunds for a product whose balance is one number kept with a ledger: fltr's
credits (a user's balance row or their team's), OmniChat's battery (user_battery, with a signed
ledger whose balance_after is the balance after each row). Every change is a ledger row whose
metadata holds the payment's reference, the operator and the notes. Each write is one audited
transaction that locks before it checks, moves the balance and writes the ledger row together,
and reads both back; so the ledger stays the balance (the ledger's balance check). What differs
between the products is in each pack's credits.sql (the same statement names; a statement
is given only the values it declares) and its manifest's [balance] (the unit, teams or none).

The safety rules are Idea Expansion's (ops/credits.py), with its input checks: a reference
already in any ledger row's metadata, folded by the database, is refused unless overridden with
a reason covering exactly the rows the operator saw; the reference is locked first (PostgreSQL
advisory lock) so two operators can't both pass that check; a refund takes back what one grant
gave, once, never below zero without a second confirmation.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from adminui.db import Database, Reply, Transaction
from adminui.errors import AdminError, DatabaseError, InputError, NotFoundError, SetupError
from adminui.ops.credits import (
    MAX_NOTES,
    MAX_REASON,
    MAX_REFERENCE,
    checked_text,
    found_user,
    parse_credits,
    plain_reference,
)
from adminui.ops.records import Record, record, records
from adminui.ops.values import signed
from adminui.ops.writes import Batch, Written, audited_batch, audited_write
from adminui.packs import Pack
from adminui.schema import reference_tables

MODEL = "one balance"  # the pack manifest's balance model these grants are for
KINDS = ("purchase", "bonus")  # what a grant is; a refund is the ledger's 'refund'
MAX_ENTRY = 2_147_483_647  # a numbered ledger's key (fltr's SERIAL)
_NUMBERED = ("integer", "bigint")  # key types of a ledger that numbers its rows
_TEXT_ID = re.compile(r"[\x21-\x7e]{1,200}")  # a text key as typed: printable ASCII, no spaces
# What a stored reference is trimmed of before it is compared (a D1 pack's credits.sql binds it
# as :blanks): every whitespace and invisible format character (Unicode's Cf, which
# plain_reference refuses in a typed one), as ranges of code points. A reference pasted from an
# email keeps its no-break spaces and direction marks; the same payment typed plainly must still
# be seen. Tests derive the set again from unicodedata.
_BLANK_RANGES = (
    (0x09, 0x0D), (0x1C, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0xAD, 0xAD), (0x600, 0x605),
    (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2),
    (0x1680, 0x1680), (0x180E, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064),
    (0x2066, 0x206F), (0x3000, 0x3000), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
BLANKS = "".join(chr(c) for low, high in _BLANK_RANGES for c in range(low, high + 1))


@dataclass(frozen=True)
class Units:
    """What a pack's grants move, as the operator reads it: `word` in sentences ("credits",
    "battery units"), `label` on a receipt ("Credits", "Battery"), `column` the balance's
    column (the JSON record's previous_/new_ keys: the product's own name)."""

    word: str
    label: str
    column: str
    teams: bool


def units(pack: Pack) -> Units:
    [(bucket, column)] = pack.balance.buckets.items()
    label = bucket.replace("_", " ").title()
    return Units(pack.balance.unit, label, column, bool(pack.balance.teams))


@dataclass(frozen=True)
class LedgerGrantInput:
    """A validated grant: what the operator asked for (`team`: a team's name, whose balance
    the grant adds to instead of the user's own)."""

    credits: int
    kind: str
    reference: str
    notes: str | None
    override_reason: str | None
    team: str | None


def parse_ledger_grant(
    credits: str | int,
    reference: str | None,
    kind: str = "purchase",
    notes: str | None = None,
    override_reason: str | None = None,
    team: str | None = None,
    *,
    max_credits: int,
) -> LedgerGrantInput:
    """Validate what the operator typed; every refusal names its field."""
    ref = checked_text("reference", reference, MAX_REFERENCE)
    if ref is None:
        raise InputError(
            "reference",
            "required: it is how a payment is matched to its grant and how a second grant for "
            "the same payment is caught",
        )
    if kind not in KINDS:
        raise InputError("type", f"must be {' or '.join(KINDS)}, not {kind[:40]!r}")
    return LedgerGrantInput(
        credits=parse_credits(credits, max_credits),
        kind=kind,
        reference=plain_reference(ref, "reference"),
        notes=checked_text("notes", notes, MAX_NOTES, multiline=True),
        override_reason=checked_text("override reason", override_reason, MAX_REASON),
        team=checked_text("team", team, MAX_REFERENCE),
    )


@dataclass(frozen=True)
class Account:
    """The balance a grant or refund moves: a user's own (`team_id` None) or a team's; `exists`
    is False for a user without a balance row yet (a grant creates it, with no credits)."""

    name: str  # the user's email or the team's name, as the operator knows it
    credits: int
    exists: bool = True
    team_id: str | None = None

    @property
    def kind(self) -> str:
        return "team" if self.team_id else "user"


@dataclass(frozen=True)
class LedgerGrantPreview:
    """What a grant would do, before anything is written."""

    user_id: str
    email: str
    name: str | None
    grant: LedgerGrantInput
    before: Account
    duplicates: tuple[Record, ...]

    @property
    def after(self) -> int:
        return self.before.credits + self.grant.credits

    @property
    def needs_override(self) -> bool:
        """The reference is already in the ledger: refused unless overridden with a reason."""
        return bool(self.duplicates)

    @property
    def duplicate_ids(self) -> frozenset[int | str]:
        """The ledger rows shown with the reference, which an override covers (no others)."""
        return frozenset(d.id for d in self.duplicates)


@dataclass(frozen=True)
class LedgerChange:
    """A grant or refund as read back: its ledger row (the product's column names, with the
    metadata's reference, operator and notes) and the balance it moved, before and after."""

    entry: Record
    account: Account
    previous_credits: int
    new_credits: int
    units: Units
    warning: str | None = None

    def receipt_lines(self) -> list[tuple[str, str]]:
        """The change as label/value pairs, for the CLI summary and a saved copy."""
        e, label = self.entry, self.units.label
        balance = f"team {self.account.name}" if self.account.team_id else "user"
        return [
            ("User", e.email or e.user_id),
            (label, signed(e.amount)),
            ("Type", e.type),
            *([("Balance", balance)] if self.units.teams else []),
            (f"Previous {label}", f"{self.previous_credits:,}"),
            (f"New {label}", f"{self.new_credits:,}"),
            *([("Balance After", f"{e.balance_after:,}")] if "balance_after" in e else []),
            ("Transaction ID", str(e.id)),
            ("Reference", e.reference or ""),
            *([("Refund Of", str(e.refund_of))] if e.refund_of else []),
            ("Operator", e.operator or ""),
            ("At", f"{e.created_at:%Y-%m-%d %H:%M:%S} UTC"),
            *([("Notes", e.notes)] if e.notes else []),
        ]

    def receipt_text(self) -> str:
        lines = self.receipt_lines()
        width = max(19, *(len(label) + 2 for label, _ in lines))
        return "\n".join(f"{label + ':':<{width}}{value}" for label, value in lines)

    def record(self) -> dict[str, Any]:
        """One JSON object for scripts: the ledger row's own names, and the balance moved."""
        column = self.units.column
        return self.entry.plain() | {
            **({"balance": self.account.kind} if self.units.teams else {}),
            f"previous_{column}": self.previous_credits,
            f"new_{column}": self.new_credits,
        }


def _user(tx: Transaction, user_id: str) -> Any:
    return found_user(tx.rows("get_user", user_id=user_id), user_id)


def _team(tx: Transaction, name: str, user_id: str) -> Any:
    """The one team of that name the user belongs to (owner or member); refused otherwise."""
    if not tx.pack.balance.teams:
        raise InputError("team", f"{tx.pack.title} has no teams: a grant goes to the user")
    teams = tx.rows("team_by_name", name=name)
    if not teams:
        raise NotFoundError(f"No team is named {name!r}.")
    if len(teams) > 1:
        raise InputError(
            "team",
            f"{len(teams)} teams are named {name!r} ({', '.join(t['id'] for t in teams)}); "
            "grant to one of them by hand",
        )
    [team] = teams
    if not tx.one("team_membership", user_id=user_id, team_id=team["id"])["member"]:
        raise InputError("team", f"the user is not in team {team['name']!r} (owner or member)")
    return team


def _account(tx: Transaction, user: Any, team: Any | None, *, locked: bool) -> Account:
    """The balance the change moves, read (or, in a write, locked) now. A balance the
    database holds as something other than a whole number (SQLite keeps what it is given) is
    refused, never read as zero: adding to it would make up a balance."""
    if team is not None:
        credits = tx.one("lock_team", team_id=team["id"])["credits"] if locked else team["credits"]
        return Account(team["name"], credits, True, team["id"])
    return _user_account(
        user, tx.one("lock_balance" if locked else "get_balance", user_id=str(user["id"]))
    )


def _user_account(user: Any, row: Any) -> Account:
    """A user's own balance from its row (None: no row yet), refused when not a whole number."""
    if row is None:
        return Account(user["email"], 0, False)
    if type(row["credits"]) is not int:
        raise InputError(
            "balance",
            f"the stored balance of {user['email']} is {row['stored']!r}, not a whole number; "
            "nothing was written (correct it by hand first)",
        )
    return Account(user["email"], row["credits"], True)


def _comparable(db: Database, reference: str) -> None:
    """A product whose SQL folds ASCII letters only (D1's lower()) can't see that 'JOSÉ-1' and
    'josé-1' are one reference: there a reference must be ASCII, or a second grant would pass."""
    if db.pack.lookup.case == "ascii" and not reference.isascii():
        raise InputError(
            "reference",
            f"{db.pack.title} compares references by their ASCII letters only: write it in "
            "ASCII (as the payment's own id is)",
        )


def preview_grant(db: Database, user_id: str, grant: LedgerGrantInput) -> LedgerGrantPreview:
    """The user, the balance now, and every ledger row already holding the reference."""
    _comparable(db, grant.reference)
    with db.read() as tx:
        if grant.team:
            user = _user(tx, user_id)
            before = _account(tx, user, _team(tx, grant.team, user_id), locked=False)
            duplicates = _holding(tx, grant.reference)
        else:  # what it reads goes together (one round trip, one request on D1)
            found = tx.many(
                [
                    ("get_user", {"user_id": user_id}),
                    ("get_balance", {"user_id": user_id}),
                    ("ledger_by_reference", _by_reference(tx, grant.reference)),
                ]
            )
            user = found_user(found[0], user_id)
            before = _user_account(user, _first(found[1]))
            duplicates = records(tx.pack, found[2])
    return LedgerGrantPreview(
        str(user["id"]), user["email"], user["name"], grant, before, duplicates
    )


def _holding(tx: Transaction, reference: str) -> tuple[Record, ...]:
    """Every ledger row, of any user, already holding the reference (the database compares)."""
    return records(tx.pack, tx.rows("ledger_by_reference", **_by_reference(tx, reference)))


def _by_reference(tx: Transaction, reference: str) -> dict[str, Any]:
    """ledger_by_reference's values: the reference, and the blanks where the pack trims them."""
    return tx.declared("ledger_by_reference", reference=reference, blanks=BLANKS)


def _first(rows: list[Any]) -> Any:
    return rows[0] if rows else None


def _refuse_duplicates(duplicates: tuple[Record, ...], grant: LedgerGrantInput, seen) -> None:
    if not duplicates:
        return
    if not grant.override_reason:
        first = duplicates[0]
        raise InputError(
            "reference",
            f"{grant.reference!r} is already on {len(duplicates)} ledger row(s) (first: "
            f"{first.id}, {first.email or first.user_id}, {first.type} {signed(first.amount)}); "
            "override with a reason if this really is a separate payment",
        )
    if {d.id for d in duplicates} != seen:
        raise InputError(
            "reference",
            "ledger rows with this reference changed since the preview; preview again and check "
            "them before overriding",
        )


def _metadata(**fields: Any) -> str:
    """The ledger row's metadata: JSON made here, its text as given (no field left empty)."""
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False)


def _move(tx: Transaction, account: Account, user_id: str, credits: int, **options: Any) -> None:
    """Add `credits` (negative: take) to the account's balance; refused when the balance
    changed so that it would go below zero (unless `below_zero`)."""
    name = "add_team_credits" if account.team_id else "add_credits"
    values = options | {"team_id": account.team_id, "user_id": user_id, "credits": credits}
    if tx.run(name, **tx.declared(name, **values)) != 1:
        raise InputError("credits", "the balance changed meanwhile; nothing was written")


def _insert(tx: Transaction, **values: Any) -> Any:
    """The ledger row, inserted: a text-keyed ledger (OmniChat's) is given a new UUID, a
    numbered one (fltr's) numbers it itself."""
    values["id"] = str(uuid.uuid4())
    return tx.one("insert_ledger_row", **tx.declared("insert_ledger_row", **values))


def _entry(db: Database, tx: Transaction, entry_id: int | str) -> Record:
    return record(db.pack, tx.one("get_ledger_row", transaction_id=entry_id))


def _change(db: Database, tx: Transaction, entry_id: Any, before: Account, after: Account):
    """The change as read back inside its transaction; a ledger that keeps the balance after
    each row (OmniChat's balance_after) must agree with the balance it moved, or nothing is
    written."""
    entry = _entry(db, tx, entry_id)
    if "balance_after" in entry and entry.balance_after != after.credits:
        raise InputError(
            "balance",
            f"the ledger row says the balance after is {entry.balance_after!r} but the balance "
            f"is {after.credits:,}; nothing was written",
        )
    return LedgerChange(entry, before, before.credits, after.credits, units(db.pack))


def grant(
    db: Database,
    user_id: str,
    grant: LedgerGrantInput,
    operator: str,
    *,
    seen_duplicates: frozenset[int] = frozenset(),
    after_insert: Callable[[], None] | None = None,
    preview: LedgerGrantPreview | None = None,
) -> LedgerChange:
    """Write the grant's ledger row and add its credits to the balance, in one audited
    transaction, locked before it checks; `after_insert` runs between the two writes (tests
    cut the connection there). Where no transaction can be held open (D1's API), one batch
    guarded by `preview` (the one the operator was shown; read now if not given)."""
    _comparable(db, grant.reference)
    now = datetime.now(UTC).replace(microsecond=0)
    if not db.holds_transactions:
        shown = preview or preview_grant(db, user_id, grant)
        return _grant_in_one_batch(db, shown, operator, seen_duplicates, now)

    def body(tx: Transaction) -> Written[LedgerChange]:
        user = _user(tx, user_id)
        tx.rows("lock_reference", reference=grant.reference)
        duplicates = _holding(tx, grant.reference)
        _refuse_duplicates(duplicates, grant, seen_duplicates)
        team = _team(tx, grant.team, user_id) if grant.team else None
        if team is None:
            tx.run("create_balance", user_id=user_id)
        before = _account(tx, user, team, locked=True)
        notes = grant.notes
        if duplicates:
            override = f"Duplicate reference overridden by {operator}: {grant.override_reason}"
            notes = f"{notes}\n{override}" if notes else override
        inserted = _insert(
            tx,
            user_id=user_id,
            team_id=before.team_id,
            amount=grant.credits,
            type=grant.kind,
            metadata=_metadata(
                reference=grant.reference,
                operator=operator,
                notes=notes,
                account=before.kind if db.pack.balance.teams else None,
            ),
            now=now,
        )
        if after_insert is not None:
            after_insert()
        purchased = grant.credits if grant.kind == "purchase" else 0
        _move(tx, before, user_id, grant.credits, purchased=purchased, below_zero=False, now=now)
        after = _account(tx, user, team, locked=True)
        change = _change(db, tx, inserted["id"], before, after)
        entry = change.entry
        inputs = {
            "user_id": user_id,
            "credits": grant.credits,
            "type": grant.kind,
            "reference": grant.reference,
            "team": grant.team,
            "notes": grant.notes,
            "override_reason": grant.override_reason,
        }
        ids = {"transaction_id": entry.id, "team_id": before.team_id}
        return Written(change, inputs, ids, {"credits": before.credits}, {"credits": after.credits})

    change, warning = audited_write(db, operator, "grant", body, _reread)
    return change if warning is None else replace(change, warning=warning)


def _grant_in_one_batch(
    db: Database,
    preview: LedgerGrantPreview,
    operator: str,
    seen_duplicates: frozenset[Any],
    now: datetime,
) -> LedgerChange:
    """The grant as one batch of statements that guard themselves (queries/omnichat/
    credits.sql): its ledger row only if the balance is still the one previewed and no grant
    of the reference was written since."""
    grant, user_id, before = preview.grant, preview.user_id, preview.before
    if db.pack.balance.model != "one balance" or grant.team:
        raise SetupError(f"Not sent to {db.profile.where}: this grant is not built as a batch.")
    _refuse_duplicates(preview.duplicates, grant, seen_duplicates)
    notes = grant.notes
    if preview.duplicates:
        override = f"Duplicate reference overridden by {operator}: {grant.override_reason}"
        notes = f"{notes}\n{override}" if notes else override
    entry_id = str(uuid.uuid4())
    first = {
        "id": entry_id,
        "user_id": user_id,
        "amount": grant.credits,
        "type": grant.kind,
        "metadata": _metadata(reference=grant.reference, operator=operator, notes=notes),
        "now": now,
        "before": before.credits if before.exists else None,
        "seen": json.dumps(sorted(str(d) for d in preview.duplicate_ids)),
        "reference": grant.reference,
    }
    inputs = {
        "user_id": user_id,
        "credits": grant.credits,
        "type": grant.kind,
        "reference": grant.reference,
        "notes": grant.notes,
        "override_reason": grant.override_reason,
    }

    def held_back() -> AdminError:
        """Why the guards held the grant back, read again: the user, the balance, the rows
        holding the reference."""
        try:
            now = preview_grant(db, user_id, grant)
        except AdminError as error:
            return InputError("grant", f"nothing was changed: {error}")
        if now.duplicate_ids != preview.duplicate_ids and _same(now.before, before):
            return InputError(
                "reference",
                f"nothing was changed: a grant of {grant.reference!r} was written since the "
                "preview; preview again and check it",
            )
        return _changed_since(before, now.before)

    return _in_one_batch(
        db,
        operator,
        "grant",
        ("grant_if_unchanged", first),
        before,
        grant.credits,
        inputs,
        held_back,
    )


def _refund_in_one_batch(
    db: Database, plan: LedgerRefundPlan, why: str, operator: str, below_zero: bool, now: datetime
) -> LedgerChange:
    """The refund as one batch (queries/omnichat/credits.sql): its ledger row only if the
    balance is still the one previewed and no refund of the grant was written since."""
    entry, before = plan.entry, plan.account
    if db.pack.balance.model != "one balance" or before.team_id:
        raise SetupError(f"Not sent to {db.profile.where}: this refund is not built as a batch.")
    if plan.below_zero and not below_zero:
        raise InputError(
            "refund",
            f"the balance is {before.credits:,}: taking back {entry.amount:,} would leave "
            f"{plan.after:,}. Confirm going below zero to refund anyway",
        )
    first = {
        "id": str(uuid.uuid4()),
        "user_id": str(entry.user_id),
        "amount": -entry.amount,
        "metadata": _metadata(
            reference=entry.reference, operator=operator, notes=why, refund_of=entry.id
        ),
        "now": now,
        "before": before.credits,
        "refund_of": entry.id,
    }
    inputs = {"transaction_id": entry.id, "reason": why, "below_zero": below_zero}

    def held_back() -> AdminError:
        """Why the guards held the refund back, read again: refunded since, or the balance."""
        try:
            now = preview_refund(db, entry.id)
        except AdminError as error:
            return InputError("transaction id", f"nothing was changed: {error}")
        return _changed_since(before, now.account)

    return _in_one_batch(
        db,
        operator,
        "refund",
        ("refund_if_unchanged", first),
        before,
        -entry.amount,
        inputs,
        held_back,
    )


def _same(one: Account, other: Account) -> bool:
    return (one.exists, one.credits) == (other.exists, other.credits)


def _changed_since(before: Account, now: Account) -> InputError:
    """A guard's refusal, said by what moved: the balance, or (it did not) the database."""
    if _same(before, now):
        return InputError(
            "balance",
            "nothing was changed: the database changed since the preview in a way the write's "
            "guards saw, then back; preview again",
        )

    def shown(account: Account) -> str:
        return f"{account.credits:,}" if account.exists else "no balance row"

    return InputError(
        "balance",
        f"nothing was changed: the balance moved since the preview ({shown(before)} then, "
        f"{shown(now)} now); preview again",
    )


def _in_one_batch(
    db: Database,
    operator: str,
    operation: str,
    first: tuple[str, dict[str, Any]],
    before: Account,
    credits: int,
    inputs: dict[str, Any],
    held_back: Callable[[], AdminError],
) -> LedgerChange:
    """A grant's or refund's batch: `first` writes the ledger row if its guards hold; the
    balance row (a grant's, where there is none) and its move by `credits` follow only if that
    row is there; the row and the balance are read back. A guard that held it back changed
    nothing, and `held_back` says why (reading again: one more request, on a refusal only)."""
    values = first[1]
    entry_id, user_id = values["id"], values["user_id"]
    where = {"user_id": user_id, "id": entry_id}
    calls = [
        first,
        *([("create_balance_if_granted", where)] if credits > 0 else []),
        ("move_balance_if_written", {**where, "credits": credits}),
        ("get_ledger_row", {"transaction_id": entry_id}),
        ("get_balance", {"user_id": user_id}),
    ]

    def result(replies: list[Reply]) -> LedgerChange:
        inserted, *_, moved, row, balance = replies
        now = _first(balance.rows)["credits"] if balance.rows else None
        if inserted.count != 1:
            raise held_back()
        if moved.count != 1:  # can't be: the row is there, so the balance moved (one batch)
            raise DatabaseError(
                f"The ledger row {entry_id} was written but the balance did not move by "
                f"{credits:+,}; correct it by hand."
            )
        return LedgerChange(
            record(db.pack, row.rows[0]), before, before.credits, now, units(db.pack)
        )

    def look_up(again: Database) -> LedgerChange | None:
        row = again.one("get_ledger_row", transaction_id=entry_id)
        if row is None:
            return None
        found = record(db.pack, row)
        return LedgerChange(found, before, before.credits, found.balance_after, units(db.pack))

    after = {"credits": before.credits + credits}
    batch = Batch(
        calls, inputs, {"transaction_id": entry_id}, {"credits": before.credits}, after, result
    )
    change, warning = audited_batch(db, operator, operation, batch, look_up)
    return change if warning is None else replace(change, warning=warning)


def _reread(db: Database, done: LedgerChange) -> LedgerChange | None:
    """A grant or refund read back by its ledger row's id on a new connection (None: the row
    is not there, or is not this write's)."""
    with db.read() as tx:
        row = tx.one("get_ledger_row", transaction_id=done.entry.id)
    if row is None:
        return None
    entry = record(db.pack, row)
    mine = ("user_id", "amount", "type", "reference", "operator", "created_at")
    if any(entry[k] != done.entry[k] for k in mine):
        return None
    return replace(done, entry=entry)


@dataclass(frozen=True)
class LedgerRefundPlan:
    """What refunding one grant would take back, from which balance; `below_zero` when the
    balance holds less than that (the operator's second confirmation)."""

    entry: Record
    account: Account

    @property
    def after(self) -> int:
        return self.account.credits - self.entry.amount

    @property
    def below_zero(self) -> bool:
        return self.after < 0


def parse_entry_id(pack: Pack, text: str | int) -> int | str:
    """A ledger row's id as typed: a number for a numbered ledger (fltr's), else the text key
    (OmniChat's UUIDs and the app's own ids), taken exactly."""
    value = str(text).strip()
    if reference_tables(pack)[pack.writes["inserts"]].key_type not in _NUMBERED:
        if not _TEXT_ID.fullmatch(value):
            raise InputError("transaction id", f"{value[:40]!r} is not a ledger row's id")
        return value
    if not re.fullmatch(r"\d{1,10}", value) or not 1 <= int(value) <= MAX_ENTRY:
        raise InputError("transaction id", f"{value[:40]!r} is not a ledger row's id (a number)")
    return int(value)


def _refunds(tx: Transaction, row: Any) -> list[Any]:
    """The refunds already on record for a grant (see _refunds_of)."""
    return tx.rows("refunds_of", **_refunds_of(tx, row))


def _refunds_of(tx: Transaction, row: Any) -> dict[str, Any]:
    """refunds_of's values: adminui's refunds name the grant; where the product's app writes its
    own (OmniChat's), they carry the Stripe payment intent the grant holds in its own column or
    as the reference adminui recorded."""
    values = {
        "transaction_id": row["id"],
        "user_id": str(row["user_id"]),
        "payment_intent": row.get("stripe_payment_intent_id"),
        "reference": row.get("reference"),
        "blanks": BLANKS,
    }
    return tx.declared("refunds_of", **values)


def _refundable(tx: Transaction, entry_id: int, *, locked: bool) -> Any:
    """The ledger row to refund, refused unless it is a grant not refunded yet."""
    row = _grant_row(tx, entry_id, locked=locked)
    _refuse_refunded(entry_id, _refunds(tx, row))
    return row


def _grant_row(tx: Transaction, entry_id: int, *, locked: bool) -> Any:
    """The ledger row to refund, refused unless it is a grant."""
    row = tx.one("lock_ledger_row" if locked else "get_ledger_row", transaction_id=entry_id)
    if row is None:
        raise NotFoundError(f"No ledger row has the id {entry_id}.")
    if row["type"] not in KINDS or type(row["amount"]) is not int or row["amount"] <= 0:
        raise InputError(
            "transaction id",
            f"{entry_id} is a {row['type']} of {signed(row['amount'])}; only a grant (a purchase "
            "or bonus) is refunded",
        )
    return row


def _refuse_refunded(entry_id: int, done: list[Any]) -> None:
    if done:
        rows = ", ".join(f"{r['id']} ({signed(r['amount'])})" for r in done)
        raise InputError("transaction id", f"{entry_id} is already refunded (ledger row {rows})")


def _on_team(row: Any) -> bool:
    """Whether a grant went to a team's balance (adminui recorded metadata account 'team')."""
    return row.get("account") == "team" and bool(row.get("team_id"))


def _refund_account(tx: Transaction, row: Any, *, locked: bool) -> Account:
    """The balance a grant moved: its team's when adminui recorded so, else its user's."""
    if _on_team(row):
        team = tx.one("lock_team" if locked else "team_balance", team_id=row["team_id"])
        if team is None:
            raise NotFoundError(f"The team {row['team_id']} this grant went to is gone.")
        return Account(team["name"], team["credits"], True, row["team_id"])
    return _a_balance(tx, _account(tx, _user(tx, str(row["user_id"])), None, locked=locked))


def _a_balance(tx: Transaction, account: Account) -> Account:
    """A user's balance a refund takes from; refused where the user has no balance row."""
    if not account.exists:
        raise InputError(
            "balance",
            f"{account.name} has no {tx.pack.balance.table} row: the grant's "
            f"{tx.pack.balance.unit} are on no balance to take back; nothing was written",
        )
    return account


def grant_of(db: Database, user_id: str, reference: str) -> Record:
    """The user's one grant holding the reference (in its metadata, or as its payment's id)
    that is not refunded yet: what a refund by reference takes back. None, or several (then
    the operator refunds one by its id), is refused."""
    ref = plain_reference(checked_text("reference", reference, MAX_REFERENCE) or "", "reference")
    _comparable(db, ref)
    with db.read() as tx:
        held = _holding(tx, ref)
        grants = [
            row
            for row in held
            if row.user_id == user_id
            and row.type in KINDS
            and type(row.amount) is int
            and row.amount > 0
            and not _refunds(tx, row)
        ]
    if not grants:
        raise NotFoundError(f"The user has no grant holding {ref!r} that is not refunded yet.")
    if len(grants) > 1:
        ids = ", ".join(str(g.id) for g in grants)
        raise InputError(
            "reference",
            f"{len(grants)} of the user's grants hold {ref!r} ({ids}): refund one by its id "
            "(adminui refund ID)",
        )
    return grants[0]


def preview_refund(db: Database, entry_id: str | int) -> LedgerRefundPlan:
    """The grant, the balance it moved, and what a refund would leave."""
    entry_id = parse_entry_id(db.pack, entry_id)
    with db.read() as tx:
        row = _grant_row(tx, entry_id, locked=False)
        if _on_team(row):
            _refuse_refunded(entry_id, _refunds(tx, row))
            return LedgerRefundPlan(record(db.pack, row), _refund_account(tx, row, locked=False))
        # The grant's refunds and its user's balance in one round trip (one request on D1):
        # one snapshot, so a refund made meanwhile shows as refunded, not as a balance gone.
        user_id = str(row["user_id"])
        done, found, balance = tx.many(
            [
                ("refunds_of", _refunds_of(tx, row)),
                ("get_user", {"user_id": user_id}),
                ("get_balance", {"user_id": user_id}),
            ]
        )
        _refuse_refunded(entry_id, done)
        account = _a_balance(tx, _user_account(found_user(found, user_id), _first(balance)))
        return LedgerRefundPlan(record(db.pack, row), account)


def refund(
    db: Database,
    entry_id: str | int,
    reason: str,
    operator: str,
    *,
    below_zero: bool = False,
    plan: LedgerRefundPlan | None = None,
) -> LedgerChange:
    """Write a 'refund' ledger row taking back what one grant gave, and take it off the balance
    it went to, in one audited transaction; refused when the grant is refunded already, and
    when the balance would go below zero unless `below_zero` (a second confirmation). Where no
    transaction can be held open (D1's API), one batch guarded by `plan` (the preview the
    operator was shown; read now if not given)."""
    entry_id = parse_entry_id(db.pack, entry_id)
    why = checked_text("reason", reason, MAX_REASON)
    if why is None:
        raise InputError("reason", "required: say why the grant is refunded")
    now = datetime.now(UTC).replace(microsecond=0)
    if not db.holds_transactions:
        shown = plan or preview_refund(db, entry_id)
        return _refund_in_one_batch(db, shown, why, operator, below_zero, now)

    def body(tx: Transaction) -> Written[LedgerChange]:
        row = _refundable(tx, entry_id, locked=True)
        before = _refund_account(tx, row, locked=True)
        amount, user_id = row["amount"], str(row["user_id"])
        if before.credits - amount < 0 and not below_zero:
            raise InputError(
                "refund",
                f"the balance is {before.credits:,}: taking back {amount:,} would leave "
                f"{before.credits - amount:,}. Confirm going below zero to refund anyway",
            )
        inserted = _insert(
            tx,
            user_id=user_id,
            team_id=row.get("team_id"),
            amount=-amount,
            type="refund",
            metadata=_metadata(
                reference=row["reference"],
                operator=operator,
                notes=why,
                account=before.kind if db.pack.balance.teams else None,
                refund_of=entry_id,
            ),
            now=now,
        )
        purchased = -amount if row["type"] == "purchase" else 0
        _move(tx, before, user_id, -amount, purchased=purchased, below_zero=below_zero, now=now)
        after = _refund_account(tx, row, locked=True)
        change = _change(db, tx, inserted["id"], before, after)
        entry = change.entry
        inputs = {"transaction_id": entry_id, "reason": why, "below_zero": below_zero}
        ids = {"transaction_id": entry.id, "refund_of": entry_id}
        return Written(change, inputs, ids, {"credits": before.credits}, {"credits": after.credits})

    change, warning = audited_write(db, operator, "refund", body, _reread)
    return change if warning is None else replace(change, warning=warning)
