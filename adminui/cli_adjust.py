"""`adminui adjust EMAIL ±CREDITS --reason WHY [--apikey ID] [--ref REF]`: a credit adjustment
for a product with a balance column and no ledger (filepath). Preview, the record said before
the write (the audit log's line, no ledger row), confirmation, the write read back, a receipt
(`--receipt FILE` keeps a copy). The steps are the grant's (cli_credits.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adminui.audit import audit_path
from adminui.cli_credits import RULE, Opener, confirm, require_writable, say_for
from adminui.connect import read_settings
from adminui.errors import InputError
from adminui.ops import adjustments, users
from adminui.output import FORMATS, render_record


def add_adjust(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    """Register `adjust` (products whose balance is a column with no ledger)."""
    adjust = command(
        commands,
        "adjust",
        "add or take credits on a user's or API key's balance (no ledger: the audit log "
        f"{audit_path()} is the record)",
    )
    adjust.add_argument("user", metavar="EMAIL", help="the user's email (or id)")
    adjust.add_argument("credits", metavar="CREDITS", help="+N adds, -N takes (whole credits)")
    adjust.add_argument("--reason", required=True, help="why (kept in the audit log's record)")
    adjust.add_argument("--apikey", metavar="ID", help="move this API key's balance instead")
    adjust.add_argument("--ref", help="the payment's reference (checked against the audit log)")
    adjust.add_argument(
        "--override-duplicate",
        metavar="REASON",
        help="adjust even though the reference is on an adjustment in the audit log, because…",
    )
    adjust.add_argument(
        "--below-zero", action="store_true", help="even if the balance then goes below zero"
    )
    adjust.add_argument("--receipt", metavar="FILE", help="also save the receipt to FILE")
    adjust.add_argument("--yes", action="store_true", help="don't ask before writing")
    adjust.add_argument("--format", choices=FORMATS, default="table")
    adjust.set_defaults(handler=lambda args: cmd_adjust(args, open_session))


def cmd_adjust(args: argparse.Namespace, open_session: Opener) -> int:
    limit = read_settings(config=args.config, url=args.url).max_grant_credits
    change = adjustments.parse_adjustment(
        args.credits,
        args.reason,
        args.ref,
        args.apikey,
        args.override_duplicate,
        max_credits=limit,
    )
    receipt = Path(args.receipt) if args.receipt else None
    if receipt is not None and not receipt.parent.is_dir():
        raise InputError("--receipt", f"{receipt.parent} is not a folder; nothing was written")
    session = open_session(args)
    require_writable(session, ask=False)
    db = session.db
    if db.pack.balance.model != adjustments.MODEL:
        raise InputError(
            "adjust",
            f"{db.pack.title} records every change of credits in a ledger or receipts: use "
            "adminui grant",
        )
    say = say_for(args)
    preview = adjustments.preview_adjustment(db, users.resolve_user(db, args.user), change)
    require_writable(session)
    before = preview.before
    say(f"User: {preview.name or preview.email} ({preview.user_id})")
    say(f"Credits of {before.label}: {before.credits:,} → {preview.after:,}")
    say(f"📒 {adjustments.RECORD.capitalize()} ({audit_path()}).")
    if preview.over_cap:
        say(f"⚠️  The key's budget cap is {before.key['budget_cap']:,}: this leaves it over.")
    if preview.earlier:
        say(f"⚠️  Reference {change.reference!r} is on {len(preview.earlier)} adjustment(s) here:")
        for logged, operator, credits, outcome in preview.earlier_rows:
            say(f"   {logged}  {operator}  {credits} credits  {outcome}")
        if not change.override_reason:
            raise InputError(
                "reference",
                "already used; nothing was written. Pass --override-duplicate REASON if this "
                "really is another payment",
            )
        say("   (an adjustment made from another machine is in that machine's audit log only)")
    below_zero = args.below_zero
    if preview.below_zero and not below_zero:
        if not sys.stdin.isatty():
            raise InputError(
                "--below-zero",
                f"the balance would go to {preview.after:,}; pass --below-zero to adjust anyway",
            )
        confirm(f"Leave {before.label} at {preview.after:,}, below zero?", False)
        below_zero = True
    confirm(f"Adjust {before.label} by {change.credits:+,} credits?", args.yes)
    done = adjustments.adjust(
        db,
        preview.user_id,
        change,
        session.config.operator,
        below_zero=below_zero,
        seen_earlier=preview.earlier_ids,
        preview=preview,
    )
    if args.format != "table":
        print(render_record(done.record(), args.format))
    else:
        say(f"\n{RULE}\n✨ Credits adjusted!\n")
        say(done.receipt_text())
        say(RULE)
    if receipt is not None:
        try:
            receipt.write_text(done.receipt_text() + "\n", encoding="utf-8")
            say(f"Receipt saved: {receipt}")
        except OSError as error:  # the adjustment is committed: say so, and what failed
            told = f"adminui: the receipt could not be saved ({error}); it is shown above"
            print(told, file=sys.stderr)
    if done.warning:
        print(f"adminui: {done.warning}", file=sys.stderr)
    return 0
