"""`adminui ledger list|check|usage`: a product's credit ledger for scripts and people (fltr's)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.ops import ledger
from adminui.ops.ledger import CHECK_COLUMNS, LIST_COLUMNS, MONTH_COLUMNS, OPERATION_COLUMNS
from adminui.ops.windows import parse_since
from adminui.output import FORMATS, render_rows

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[[argparse.Namespace], "Session"]


def add_commands(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    """Register `ledger list`, `ledger check` and `ledger usage`."""
    group = command(commands, "ledger", "the credit ledger: transactions, usage, balance check")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = command(actions, "list", "credit transactions newest first, filtered")
    listing.add_argument("--type", choices=ledger.TYPES)
    listing.add_argument("--operation", help="an operation, like mcp_query")
    listing.add_argument("--user", metavar="EMAIL|ID", help="one user's transactions")
    listing.add_argument("--since", help="24h, 7d, 12m or a date")
    listing.add_argument("--until", help="a date (or 24h, 7d: that long ago)")
    listing.add_argument("--limit", type=int, default=ledger.PAGE, help="at most this many")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=lambda args: cmd_list(args, open_session))
    check = command(actions, "check", "users whose balance is not the sum of their ledger")
    check.add_argument("--limit", type=int, default=ledger.PAGE, help="at most this many")
    check.add_argument("--format", choices=FORMATS, default="table")
    check.set_defaults(handler=lambda args: cmd_check(args, open_session))
    usage = command(actions, "usage", "credits used by operation, and the ledger by month")
    usage.add_argument("--by", choices=("operation", "month"), default="operation")
    usage.add_argument("--since", help="24h, 7d, 12m or a date")
    usage.add_argument("--format", choices=FORMATS, default="table")
    usage.set_defaults(handler=lambda args: cmd_usage(args, open_session))


def cmd_list(args: argparse.Namespace, open_session: Opener) -> int:
    found = ledger.page(
        open_session(args).db,
        kind=args.type,
        operation=args.operation,
        user=args.user,
        since=parse_since(args.since) if args.since else None,
        until=parse_since(args.until, field="--until") if args.until else None,
        limit=args.limit,
    )
    print(render_rows(found.rows, LIST_COLUMNS, args.format))
    if args.format == "table" and found.after:
        print(f"newest {len(found.rows)}; more match (raise --limit)", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace, open_session: Opener) -> int:
    found = ledger.balance_check(open_session(args).db, args.limit)
    print(render_rows(found.rows, CHECK_COLUMNS, args.format))
    if args.format == "table":
        print(
            f"{found.unbalanced:,} of {found.balances:,} balances are not their ledger's sum",
            file=sys.stderr,
        )
    return 0


def cmd_usage(args: argparse.Namespace, open_session: Opener) -> int:
    found = ledger.usage(open_session(args).db, parse_since(args.since) if args.since else None)
    if args.by == "operation":
        print(render_rows(found.by_operation, OPERATION_COLUMNS, args.format))
    else:
        print(render_rows(found.by_month, MONTH_COLUMNS, args.format))
    return 0
