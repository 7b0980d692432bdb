"""`adminui payments summary --by status|month|user`: revenue views for scripts and people."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.errors import InputError
from adminui.ops import payments
from adminui.ops.windows import parse_since
from adminui.output import FORMATS, render_rows

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[[argparse.Namespace], "Session"]
COLUMNS = payments.VIEW_COLUMNS


def add_commands(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    """Register `payments summary`."""
    group = command(commands, "payments", "payment summaries")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    summary = command(actions, "summary", "totals by status, by month or by user")
    summary.add_argument("--by", choices=("status", "month", "user"), default="status")
    summary.add_argument("--since", help="24h, 7d, 12m or a date (status and user views)")
    summary.add_argument("--months", type=int, default=12, help="months in the month view")
    summary.add_argument("--limit", type=int, default=100, help="payers in the user view")
    summary.add_argument("--format", choices=FORMATS, default="table")
    summary.set_defaults(handler=lambda args: cmd_summary(args, open_session))
    listing = command(actions, "list", "receipts newest first, filtered")
    listing.add_argument("--status", choices=payments.STATUSES)
    listing.add_argument("--since", help="24h, 7d, 12m or a date")
    listing.add_argument("--search", metavar="TEXT", help="part of a reference or an email")
    listing.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=lambda args: cmd_list(args, open_session))


def cmd_summary(args: argparse.Namespace, open_session: Opener) -> int:
    if args.by == "month" and args.since:
        raise InputError(
            "--since", "does not apply to --by month: --months says how many months (12 or 24)"
        )
    since = parse_since(args.since) if args.since else None
    db = open_session(args).db
    if args.by == "status":
        rows: tuple[Any, ...] = payments.by_status(db, since)
    elif args.by == "month":
        rows = payments.by_month(db, args.months)
    else:
        rows = payments.by_user(db, args.limit, since)
    print(render_rows([dataclasses.asdict(r) for r in rows], COLUMNS[args.by], args.format))
    return 0


def cmd_list(args: argparse.Namespace, open_session: Opener) -> int:
    since = parse_since(args.since) if args.since else None
    page = payments.list_payments(
        open_session(args).db, status=args.status, since=since, search=args.search, limit=args.limit
    )
    print(render_rows([dataclasses.asdict(r) for r in page.rows], COLUMNS["list"], args.format))
    if args.format == "table" and page.after:
        print(f"first {len(page.rows)}; more match (raise --limit)", file=sys.stderr)
    return 0
