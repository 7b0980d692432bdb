"""`adminui bmc`: Buy Me a Coffee's payments as it says they were (issue 18): `token set|delete`
(the keyring, user bmc:PROFILE), `show SUPPORT_ID` (one request), `find EMAIL [--since 30d]`,
and `reconcile [--since 30d]`: every payment of the window beside the receipt that granted it,
the exceptions first. `--from-csv FILE` reads the dashboard's export instead of the API.

Every failure to read BMC is one sentence and exit 2; the exceptions a reconciliation finds are
data (exit 0), counted on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adminui.connect import chosen_profile, open_bmc
from adminui.errors import InputError
from adminui.ops import bmc
from adminui.ops.windows import parse_since
from adminui.output import FORMATS, json_value, render_record, render_rows
from adminui.passwords import check_keyring, delete_bmc_token, store_bmc_token

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[..., "Session"]
PAYMENT_COLUMNS = ("created_utc", "id", "payer_email", "amount", "currency", "refunded", "note")
DEFAULT_WINDOW = "30d"


def add_commands(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    group = command(commands, "bmc", "Buy Me a Coffee's payments: show, find, reconcile")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    token = command(actions, "token", "store or remove the profile's Buy Me a Coffee token")
    token_actions = token.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    for action, text in (
        ("set", "store the token (asked for, or read from stdin)"),
        ("delete", "remove the stored token"),
    ):
        sub = command(token_actions, action, text)
        sub.add_argument("profile_name", metavar="PROFILE")
        sub.set_defaults(handler=cmd_token)

    def source_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--from-csv", metavar="FILE", help="read the dashboard's CSV export, not the API"
        )
        parser.add_argument("--format", choices=FORMATS, default="table")

    show = command(actions, "show", "one payment (one request): payer, amount, refunded or not")
    show.add_argument("support_id", metavar="SUPPORT_ID", help="245731 or BMC-245731")
    source_options(show)
    show.set_defaults(handler=cmd_show)
    find = command(actions, "find", "the payments of one payer's email, newest first")
    find.add_argument("email", metavar="EMAIL")
    find.add_argument("--since", default=DEFAULT_WINDOW, help="how far back (default 30d)")
    source_options(find)
    find.set_defaults(handler=cmd_find)
    reconcile = command(
        actions, "reconcile", "every payment of a window beside its receipt, exceptions first"
    )
    reconcile.add_argument("--since", default=DEFAULT_WINDOW, help="how far back (default 30d)")
    source_options(reconcile)
    reconcile.set_defaults(handler=lambda args: cmd_reconcile(args, open_session))


def source_of(args: argparse.Namespace) -> bmc.Source:
    """The payments' source for the global options' profile (its token, its bmc_api)."""
    _, profile = chosen_profile(config=args.config, profile=args.profile, url=args.url)
    return open_bmc(profile, from_csv=args.from_csv, interactive=sys.stdin.isatty())


def _since(text: str) -> datetime:
    if text.strip().lower() == "all":
        return datetime(2000, 1, 1, tzinfo=UTC)
    return parse_since(text, datetime.now(UTC))


def cmd_token(args: argparse.Namespace) -> int:
    name = args.profile_name
    chosen_profile(config=args.config, profile=name, url=None)  # a mistyped profile is refused
    if args.token_action == "delete":
        delete_bmc_token(name)
        print(f"Removed the Buy Me a Coffee token of profile '{name}'.", file=sys.stderr)
        return 0
    check_keyring()
    if sys.stdin.isatty():
        secret = getpass.getpass(f"Buy Me a Coffee token for profile '{name}': ")
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    if not secret.strip():
        raise InputError("token", "empty; nothing was stored")
    store_bmc_token(name, secret.strip())
    print(f"Stored the Buy Me a Coffee token of profile '{name}' in the keyring.", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    payment_id = bmc.parse_payment_id(args.support_id)
    with source_of(args) as source:
        payment = source.payment("support", payment_id)
    if payment is None:
        print(f"adminui: Buy Me a Coffee has no support {payment_id}.", file=sys.stderr)
        return 1
    print(render_record(payment.plain(), args.format))
    if args.format == "table":
        print("Times are UTC, as Buy Me a Coffee's API gives them.", file=sys.stderr)
    return 0


def cmd_find(args: argparse.Namespace) -> int:
    since = _since(args.since)
    with source_of(args) as source:
        found = bmc.find(source, args.email, since)
    print(render_rows([p.plain() for p in found], PAYMENT_COLUMNS, args.format))
    if args.format == "table":
        print(
            f"{len(found)} payment(s) from {args.email} since {since:%Y-%m-%d %H:%M} UTC.",
            file=sys.stderr,
        )
    return 0


def cmd_reconcile(args: argparse.Namespace, open_session: Opener) -> int:
    since = _since(args.since)
    db = open_session(args).db
    with source_of(args) as source:
        report = bmc.reconcile(db, source, since)
    rows = [m.plain() for m in report.matches]
    if args.format == "json":
        print(
            json.dumps(
                {
                    "since_utc": json_value(report.since),
                    "counts": report.counts,
                    "payments": [json_value(r) for r in rows],
                    "memberships": [json_value(p.plain()) for p in report.memberships],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print(render_rows(rows, bmc.MATCH_COLUMNS, args.format))
    if args.format == "table":
        _summary(report)
    return 0


def _summary(report: bmc.Reconciliation) -> None:
    lines = [
        f"{len(report.matches)} payments and receipts since {report.since:%Y-%m-%d %H:%M} UTC "
        f"({report.requests} requests to Buy Me a Coffee)."
    ]
    lines += [f"  {count} {bmc.ISSUES[issue]}" for issue, count in report.counts.items() if count]
    if report.memberships:
        active = sum(p.status == "active" for p in report.memberships)
        lines.append(f"  {len(report.memberships)} memberships ({active} active).")
    if report.not_looked_up:
        lines.append(
            f"  {report.not_looked_up} receipts' payments were not looked up (over "
            f"{bmc.LOOKUPS}): narrow --since."
        )
    lines.append(
        "Refund with 'adminui receipts refund ID --reason ...'; verify with 'adminui receipts "
        "verify ID'."
    )
    print("\n".join(lines), file=sys.stderr)
