"""A ledger product's money commands (fltr's credits, OmniChat's battery): `adminui grant EMAIL
UNITS --ref REF [--type purchase|bonus|refund] [--team]` writes a ledger row and moves the
balance (`--type refund` takes back the user's grant of REF); `adminui refund ID --reason` takes
one grant back by its ledger row's id. The same steps as Idea Expansion's grant
(cli_credits.py): preview, the duplicate reference shown and refused unless overridden,
confirmation, the write read back, a receipt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.audit import audit_path
from adminui.cli_credits import RULE, Opener, confirm, require_writable, say_for
from adminui.errors import InputError
from adminui.ops import adjustments, ledger_credits, users
from adminui.ops.values import signed
from adminui.output import FORMATS, render_record, text_value

if TYPE_CHECKING:
    from adminui.connect import Session


def add_refund(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    """Register `refund` (products whose grants are ledger rows)."""
    refund = command(
        commands,
        "refund",
        f"take one grant's credits back with a refund ledger row (logged to {audit_path()})",
    )
    refund.add_argument("transaction_id", metavar="ID", help="the grant's ledger row id")
    refund.add_argument("--reason", required=True, help="why (kept in the refund's metadata)")
    refund.add_argument(
        "--below-zero",
        action="store_true",
        help="refund even if the balance then goes below zero (the credits were spent)",
    )
    refund.add_argument("--yes", action="store_true", help="don't ask before writing")
    refund.add_argument("--format", choices=FORMATS, default="table")
    refund.set_defaults(handler=lambda args: cmd_refund(args, open_session))


def _ledger_session(args: argparse.Namespace, open_session: Opener) -> Session:
    session = open_session(args)
    require_writable(session, ask=False)
    pack = session.db.pack
    if pack.balance.model == adjustments.MODEL:
        raise InputError(
            "grant",
            f"{pack.title} has no ledger: its balances are adjusted, with the audit log as the "
            "record (adminui adjust EMAIL ±CREDITS --reason WHY)",
        )
    if pack.balance.model != ledger_credits.MODEL:
        raise InputError(
            "AMOUNT",
            f"required for {pack.title}: its grants write a receipt of the payment (USD paid, "
            "like 5.00)",
        )
    return session


def cmd_grant(args: argparse.Namespace, open_session: Opener, limit: int) -> int:
    if args.type == "refund":
        return _refund_by_reference(args, open_session)
    grant = ledger_credits.parse_ledger_grant(
        args.credits,
        args.ref,
        args.type,
        args.notes,
        args.override_duplicate,
        getattr(args, "team", None),
        max_credits=limit,
    )
    session = _ledger_session(args, open_session)
    say, db = say_for(args), session.db
    units = ledger_credits.units(db.pack)
    target = f" (team {grant.team})" if grant.team else ""
    say(
        f"💳 Granting {grant.credits:,} {units.word} ({grant.kind}) to {args.user}{target}, "
        f"reference {grant.reference}"
    )
    preview = ledger_credits.preview_grant(db, users.resolve_user(db, args.user), grant)
    require_writable(session)
    before = preview.before
    missing = "" if before.exists else " [no balance row yet: the grant creates it]"
    say(f"User: {preview.name or preview.email} ({preview.user_id})")
    say(
        f"{units.label} of {before.kind} {before.name}: {before.credits:,} → {preview.after:,}"
        f"{missing}"
    )
    if preview.duplicates:
        say(f"⚠️  Reference {grant.reference!r} is already on {len(preview.duplicates)} row(s):")
        for dup in preview.duplicates:
            say(
                f"   {dup.id}  {dup.email or dup.user_id}  {dup.type} {signed(dup.amount)}  "
                f"{text_value(dup.created_at)}"
            )
        if not grant.override_reason:
            raise InputError(
                "reference",
                "already used; nothing was written. Pass --override-duplicate REASON if this "
                "really is another payment",
            )
        say(f"   Overriding: {grant.override_reason}")
    confirm(f"Grant {grant.credits:,} {units.word} to {before.kind} {before.name}?", args.yes)
    change = ledger_credits.grant(
        db,
        preview.user_id,
        grant,
        session.config.operator,
        seen_duplicates=preview.duplicate_ids,
        preview=preview,
    )
    _report(args, change, grant.credits, f"{units.label} granted")
    return 0


def _refund_by_reference(args: argparse.Namespace, open_session: Opener) -> int:
    """`grant EMAIL UNITS --ref REF --type refund`: the refund of the user's one grant holding
    REF, which takes back what it gave (UNITS must say that much: a typo refunds nothing)."""
    if args.notes is None:
        raise InputError("--notes", "required with --type refund: say why (kept in its metadata)")
    for flag, given in (
        ("--team", getattr(args, "team", None)),
        ("--override-duplicate", args.override_duplicate),
    ):
        if given:
            raise InputError(
                flag,
                "not with --type refund: a refund takes one grant back from the balance it went "
                "to; nothing was written",
            )
    session = _ledger_session(args, open_session)
    db = session.db
    entry = ledger_credits.grant_of(db, users.resolve_user(db, args.user), args.ref)
    if str(args.credits).strip() != str(entry.amount):
        raise InputError(
            ledger_credits.units(db.pack).word,
            f"the grant of {entry.reference!r} (ledger row {entry.id}) gave {entry.amount:,}: "
            f"a refund takes back all of it, not {str(args.credits)[:20]!r}; nothing was written",
        )
    return _refund(args, session, entry.id, args.notes)


def cmd_refund(args: argparse.Namespace, open_session: Opener) -> int:
    session = _ledger_session(args, open_session)
    return _refund(args, session, args.transaction_id, args.reason)


def _refund(args: argparse.Namespace, session: Session, entry_id: Any, reason: str) -> int:
    say, db = say_for(args), session.db
    units = ledger_credits.units(db.pack)
    plan = ledger_credits.preview_refund(db, entry_id)
    require_writable(session)
    entry, account = plan.entry, plan.account
    say(
        f"Ledger row {entry.id}: {entry.type} of {signed(entry.amount)} {units.word} for "
        f"{entry.email or entry.user_id}, reference {entry.reference!r}"
    )
    say(f"{units.label} of {account.kind} {account.name}: {account.credits:,} → {plan.after:,}")
    below_zero = args.below_zero
    if plan.below_zero and not below_zero:
        if not sys.stdin.isatty():
            raise InputError(
                "--below-zero",
                f"the balance would go to {plan.after:,} (the {units.word} were spent); pass "
                "--below-zero to refund anyway",
            )
        confirm(f"Refund anyway, leaving {plan.after:,} {units.word}?", False)
        below_zero = True
    confirm(f"Refund ledger row {entry.id}?", args.yes)
    change = ledger_credits.refund(
        db, entry.id, reason, session.config.operator, below_zero=below_zero, plan=plan
    )
    _report(args, change, -entry.amount, "Refunded")
    return 0


def _report(
    args: argparse.Namespace, change: ledger_credits.LedgerChange, moved: int, done: str
) -> None:
    say = say_for(args)
    if change.new_credits != change.previous_credits + moved:
        say(
            f"⚠️  The balance moved by {change.new_credits - change.previous_credits:+,}, not "
            f"{moved:+,}: another change landed at the same time"
        )
    if args.format != "table":
        print(render_record(change.record(), args.format))
    else:
        say(f"\n{RULE}\n✨ {done}!\n")
        say(change.receipt_text())
        say(RULE)
    if change.warning:
        print(f"adminui: {change.warning}", file=sys.stderr)
