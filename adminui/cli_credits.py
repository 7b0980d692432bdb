"""The money commands: `adminui grant` and `adminui receipts pending|verify|refund` (a ledger
product's grant and refund: cli_ledger_credits.py).

Each write previews first, then asks (or takes `--yes`); with no terminal and no `--yes` it
refuses. Steps go to stdout for a person, or to stderr when `--format csv|json` keeps stdout for
the result alone (one CSV record or one JSON object).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adminui.audit import audit_path
from adminui.connect import open_bmc, read_settings
from adminui.errors import AdminError, InputError, UsageError
from adminui.ops import bmc, credits, ledger_credits, users
from adminui.output import FORMATS, render_record, render_rows

if TYPE_CHECKING:
    from adminui.bmc import Payment
    from adminui.connect import Session
    from adminui.packs import Pack

RULE = "═" * 59
LEDGER = ledger_credits.MODEL
PENDING_COLUMNS = ("created_at", "email", "amount_usd", "credits_purchased", "bmc_reference", "id")
GRANT_FIELDS = (
    "receipt_id",
    "email",
    "credits",
    "amount_usd",
    "bmc_reference",
    "previous_total",
    "new_total",
    "verified_by",
    "verified_at",
    "notes",
    "user_id",
)

Opener = Callable[[argparse.Namespace], "Session"]


def add_grant(
    commands: Any,
    command: Callable[..., argparse.ArgumentParser],
    open_session: Opener,
    pack: Pack | None,
) -> None:
    """Register `grant` in the form of the product's balance: Idea Expansion's records a
    payment (its AMOUNT) on a receipt; a ledger's (fltr) takes a type and a team. Before the
    product is known (recognised once connected), both forms parse."""
    model = pack.balance.model if pack else None
    kept = "a verified receipt" if model == "buckets" else "a receipt or ledger row"
    word = pack.balance.unit if pack else "credits"
    grant = command(
        commands,
        "grant",
        f"grant paid {word} with {kept} (every write is logged to {audit_path()})",
    )
    grant.add_argument("user", metavar="EMAIL", help="the user's email (or id)")
    grant.add_argument("credits", metavar=word.split()[-1].upper(), help=f"whole {word} to add")
    receipts = model != LEDGER  # its grants write a receipt (or, unknown yet, may)
    if receipts:
        amount = "USD paid, like 5.00 (with --bmc: the payment's)"
        grant.add_argument("amount", metavar="AMOUNT", nargs="?", help=amount)
    ref = "the Buy Me a Coffee reference" if model == "buckets" else "the payment's reference"
    grant.add_argument(
        "--ref", required=not receipts, help=ref + (" (or --bmc)" if receipts else "")
    )
    if receipts:
        grant.add_argument(
            "--bmc",
            metavar="SUPPORT_ID",
            help="the Buy Me a Coffee payment, read there first: refused if refunded, already "
            "granted, or in another currency; its amount and BMC-<id> go on the receipt",
        )
        grant.add_argument(
            "--amount-differs",
            metavar="REASON",
            help="with --bmc: an AMOUNT other than the payment's, because… (kept in the notes)",
        )
        grant.add_argument(
            "--bmc-unread",
            metavar="REASON",
            help="with --bmc: grant without reading the payment (BMC can't be reached), "
            "because… (the notes say it was not checked)",
        )
    if model != "buckets":
        grant.add_argument(
            "--type",
            choices=(*ledger_credits.KINDS, "refund"),
            default="purchase",
            help="purchase (counted as bought) or bonus; refund takes back the user's grant "
            "of this reference, whole (ledger products)",
        )
        grant.add_argument(
            "--below-zero",
            action="store_true",
            help="with --type refund: even if the balance then goes below zero (it was spent)",
        )
    if model != "buckets" and (pack is None or pack.balance.teams):
        grant.add_argument(
            "--team", metavar="NAME", help="add to the user's team's credits (ledger products)"
        )
    grant.add_argument("--notes", help="a note kept on the receipt")
    grant.add_argument(
        "--override-duplicate",
        metavar="REASON",
        help="grant even though the reference is on a receipt already, because…",
    )
    grant.add_argument("--yes", action="store_true", help="don't ask before writing")
    grant.add_argument("--format", choices=FORMATS, default="table")
    grant.set_defaults(handler=lambda args: cmd_grant(args, open_session))


def add_receipts(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    """Register `receipts pending|verify|refund` (products whose grants write receipts)."""

    def handler(function: Callable[[argparse.Namespace, Opener], int]) -> Callable[..., int]:
        return lambda args: function(args, open_session)

    receipts = command(commands, "receipts", "pending receipts: list, verify, refund")
    actions = receipts.add_subparsers(dest="action", metavar="ACTION", required=True)
    pending = command(actions, "pending", "receipts waiting for verification, oldest first")
    pending.add_argument("--format", choices=FORMATS, default="table")
    pending.set_defaults(handler=handler(cmd_pending))
    verify = command(actions, "verify", "grant a pending receipt's credits and mark it verified")
    verify.add_argument("receipt_id", metavar="ID")
    verify.add_argument(
        "--override-duplicate",
        metavar="REASON",
        help="verify even though another receipt has the same reference",
    )
    verify.add_argument("--yes", action="store_true", help="don't ask before writing")
    verify.add_argument("--format", choices=FORMATS, default="table")
    verify.set_defaults(handler=handler(cmd_verify))
    refund = command(actions, "refund", "mark a receipt refunded and take its credits back")
    refund.add_argument("receipt_id", metavar="ID")
    refund.add_argument("--reason", required=True, help="why (appended to the receipt's notes)")
    refund.add_argument(
        "--accept-shortfall",
        action="store_true",
        help="refund even if the user already spent some of the credits",
    )
    refund.add_argument("--yes", action="store_true", help="don't ask before writing")
    refund.add_argument("--format", choices=FORMATS, default="table")
    refund.set_defaults(handler=handler(cmd_refund))


def confirm(question: str, yes: bool) -> None:
    """Go on only with --yes or a 'y' typed at a terminal."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError("--yes", "no terminal to ask for confirmation; pass --yes to write")
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise AdminError("Cancelled; nothing was written.")


def require_writable(session: Session, *, ask: bool = True) -> None:
    """Refuse a write on a read-only profile before anything is asked or written. A command
    calls it first with `ask` False (no round trip: the profile's flag, or what is known), and
    again once its preview has been read, before any question: whether the role may write at
    all came with that read."""
    db = session.db
    if db.read_only if ask else db.known_read_only:
        raise db.read_only_refusal("nothing was written")


def say_for(args: argparse.Namespace) -> Callable[[str], None]:
    stream = sys.stdout if args.format == "table" else sys.stderr
    return lambda line: print(line, file=stream)


def cmd_grant(args: argparse.Namespace, open_session: Opener) -> int:
    # Input is checked before connecting, against the configured max_grant_credits: as a
    # receipt's when an AMOUNT (or a BMC payment) is given, else as a ledger row's (the product
    # then must agree).
    if not args.ref and not getattr(args, "bmc", None):
        raise UsageError(
            "the following arguments are required: --ref (or --bmc SUPPORT_ID) "
            "(see 'adminui grant --help')"
        )
    limit = read_settings(config=args.config, url=args.url).max_grant_credits
    if getattr(args, "bmc", None):
        return _grant_bmc(args, open_session, limit)
    if getattr(args, "amount", None) is None:
        from adminui import cli_ledger_credits  # it builds on this module's steps

        return cli_ledger_credits.cmd_grant(args, open_session, limit)
    grant = credits.parse_grant(
        args.credits, args.amount, args.ref, args.notes, args.override_duplicate, max_credits=limit
    )
    return _grant_receipt(args, _receipt_session(args, open_session), grant)


def _receipt_session(args: argparse.Namespace, open_session: Opener) -> Session:
    """The session of a grant that writes a receipt: writable, and a product with receipts."""
    session = open_session(args)
    require_writable(session, ask=False)
    if session.db.pack.balance.model == LEDGER:
        raise InputError(
            "AMOUNT",
            f"{session.db.pack.title} keeps a ledger, not receipts: its grants take no amount "
            "and no --bmc (give CREDITS and --ref, with --type and --team if needed)",
        )
    if getattr(args, "team", None):
        raise InputError("--team", f"{session.db.pack.title} has no team balances")
    return session


def _grant_bmc(args: argparse.Namespace, open_session: Opener, limit: int) -> int:
    """A grant for a Buy Me a Coffee payment: read it there (one request), refuse what can't
    grant, and grant with its amount, its reference and its record in the notes."""
    payment_id = bmc.parse_payment_id(args.bmc)
    reference = f"BMC-{payment_id}"
    if args.ref and args.ref.strip().casefold() != reference.casefold():
        raise InputError("--ref", f"{args.ref!r} is not --bmc's {reference}; give one of them")
    if args.override_duplicate:
        raise InputError(
            "--override-duplicate",
            "--override-duplicate can't pass a payment already granted: one payment grants once",
        )
    amount = credits.parse_amount(args.amount) if args.amount else None
    reason = credits.checked_text("--amount-differs", args.amount_differs, credits.MAX_REASON)
    session = _receipt_session(args, open_session)
    db, say = session.db, say_for(args)
    if args.bmc_unread:
        why = credits.checked_text("--bmc-unread", args.bmc_unread, credits.MAX_REASON) or ""
        checked = bmc.check_unread(db, payment_id, why, amount)
        say(f"⚠️  Support {payment_id} is not read at Buy Me a Coffee: {why}\n")
    else:
        say(f"🔎 Reading support {payment_id} at Buy Me a Coffee...")
        with open_bmc(db.profile, from_csv=None, interactive=sys.stdin.isatty()) as source:
            payment = source.payment("support", payment_id)
        checked = bmc.check_for_grant(
            db,
            payment,
            payment_id,
            currencies=session.config.bmc_currencies,
            amount=amount,
            amount_reason=reason,
            fetched=datetime.now(UTC),
        )
        say(f"✅ {checked.notes}\n")
    grant = credits.parse_grant(
        args.credits, checked.amount_usd, reference, args.notes, max_credits=limit
    )
    return _grant_receipt(args, session, bmc.with_payment(grant, checked), checked.payment)


def _grant_receipt(
    args: argparse.Namespace,
    session: Session,
    grant: credits.GrantInput,
    payment: Payment | None = None,
) -> int:
    say, db = say_for(args), session.db
    say("💳 Processing credit grant...")
    say(
        f"User Email: {args.user}\nCredits to Grant: {grant.credits}\n"
        f"Amount (USD): {grant.amount_usd}\nReference: {grant.reference}\n"
    )
    say("Step 1: Looking up user...")
    preview = credits.preview_grant(db, users.resolve_user(db, args.user), grant)
    require_writable(session)
    say(f"✅ User found: {preview.name or preview.email}\n")
    if warning := bmc.payer_warning(payment, preview.email):
        say(f"⚠️  {warning}\n")
    say("Step 2: Getting current credits...")
    missing = "" if preview.before.exists else " [no usage_tracking row: the grant creates it]"
    before = preview.before
    say(f"Current Credits: {before.total} (free {before.free}, paid {before.paid}){missing}")
    say(f"After the grant: {preview.after.total}\n")
    if preview.duplicates:
        _list_duplicates(say, preview.duplicates, grant.reference)
        if not grant.override_reason:
            raise InputError(
                "bmc_reference",
                "already used; nothing was written. Pass "
                "--override-duplicate REASON if this really is another payment",
            )
        say(f"   Overriding: {grant.override_reason}\n")
    confirm(f"Grant {grant.credits} credits ({grant.amount_usd} USD) to {preview.email}?", args.yes)
    say("Step 3: Creating payment receipt...")
    result = credits.grant_credits(
        db, preview.user_id, grant, session.config.operator, seen_duplicates=preview.duplicate_ids
    )
    say("✅ Payment receipt created\n")
    say("Step 4: Verifying...")
    if result.new_total != result.previous_total + result.credits:
        say(
            f"⚠️  Totals moved by {result.new_total - result.previous_total}, not "
            f"{result.credits}: another change landed at the same time"
        )
    else:
        say("✅ Verification successful")
    if args.format != "table":
        print(render_record({f: getattr(result, f) for f in GRANT_FIELDS}, args.format))
    else:
        say(f"\n{RULE}\n✨ Credits granted successfully!\n")
        say(result.receipt_text())
        say(RULE)
    if result.warning:
        print(f"adminui: {result.warning}", file=sys.stderr)
    return 0


def cmd_pending(args: argparse.Namespace, open_session: Opener) -> int:
    rows = [dataclasses.asdict(r) for r in credits.pending_receipts(open_session(args).db)]
    print(render_rows(rows, PENDING_COLUMNS, args.format))
    if args.format == "table":
        print(f"{len(rows)} pending receipt{'' if len(rows) == 1 else 's'}", file=sys.stderr)
    return 0


def _describe(receipt: credits.ReceiptInfo) -> str:
    return (
        f"Receipt {receipt.id}: {receipt.email}, {receipt.amount_usd} USD, "
        f"{receipt.credits_purchased} credits, reference {receipt.bmc_reference!r}, "
        f"{receipt.status}"
    )


def _print_change(args: argparse.Namespace, change: credits.ReceiptChange, verb: str) -> None:
    if args.format != "table":
        print(render_record(change.record(), args.format))
    else:
        print(f"✅ {change.describe(verb)}")
    if change.warning:
        print(f"adminui: {change.warning}", file=sys.stderr)


def _list_duplicates(
    say: Callable[[str], None], receipts: tuple[credits.ReceiptInfo, ...], reference: str | None
) -> None:
    say(f"⚠️  Reference {reference!r} is already on {len(receipts)} receipt(s):")
    for dup in receipts:
        created = f"{dup.created_at:%Y-%m-%d}" if dup.created_at else ""
        say(
            f"   {dup.id}  {dup.email}  {dup.amount_usd} USD  {dup.credits_purchased} credits  "
            f"{dup.status}  {created}"
        )


def cmd_verify(args: argparse.Namespace, open_session: Opener) -> int:
    session = open_session(args)
    require_writable(session, ask=False)
    preview = credits.preview_verify(session.db, args.receipt_id)
    require_writable(session)
    receipt, say = preview.receipt, say_for(args)
    say(_describe(receipt))
    say(
        f"Verifying adds {receipt.credits_purchased} paid credits "
        f"(total {preview.before.total} → {preview.after.total})."
    )
    if preview.duplicates:
        _list_duplicates(say, preview.duplicates, receipt.bmc_reference)
        if not args.override_duplicate:
            raise InputError(
                "bmc_reference",
                "already used; nothing was written. Pass "
                "--override-duplicate REASON if this really is another payment",
            )
    confirm(f"Verify it and add {receipt.credits_purchased} credits to {receipt.email}?", args.yes)
    change = credits.verify_receipt(
        session.db,
        receipt.id,
        session.config.operator,
        override_reason=args.override_duplicate,
        seen_duplicates=preview.duplicate_ids,
    )
    _print_change(args, change, "Verified")
    return 0


def cmd_refund(args: argparse.Namespace, open_session: Opener) -> int:
    session = open_session(args)
    require_writable(session, ask=False)
    preview = credits.preview_refund(session.db, args.receipt_id)
    require_writable(session)
    say = say_for(args)
    say(_describe(preview.receipt))
    say(
        f"A refund takes back {preview.take_back} paid credits "
        f"(paid {preview.before.paid} → {preview.after.paid})."
    )
    accept = args.accept_shortfall
    if preview.shortfall:
        say(
            f"⚠️  The user already spent {preview.shortfall} of these credits; they can't be "
            "taken back."
        )
        if not accept:
            if not sys.stdin.isatty():
                raise InputError(
                    "--accept-shortfall",
                    f"the user already spent "
                    f"{preview.shortfall} of these credits; pass --accept-shortfall "
                    "to refund anyway",
                )
            confirm(f"Refund anyway, leaving a shortfall of {preview.shortfall} credits?", False)
            accept = True
    confirm(f"Refund receipt {preview.receipt.id}?", args.yes)
    change = credits.refund_receipt(
        session.db,
        preview.receipt.id,
        args.reason,
        session.config.operator,
        accept_shortfall=accept,
    )
    _print_change(args, change, "Refunded")
    return 0
