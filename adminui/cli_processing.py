"""`adminui processing summary|<list>`: a product's processing history (fltr's jobs by status
and failed documents), each list a command named in the pack's manifest."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.ops import history
from adminui.output import FORMATS, render_rows
from adminui.packs import Pack, packs

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[[argparse.Namespace], "Session"]


def add_commands(
    commands: Any,
    command: Callable[..., argparse.ArgumentParser],
    open_session: Opener,
    pack: Pack | None,
) -> None:
    """Register `processing summary` and one command per list of the product's history (every
    product's, before the product is known)."""
    group = command(commands, "processing", "the processing history: by status, newest first")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    summary = command(actions, "summary", "how many jobs and documents are in each status")
    summary.add_argument("--format", choices=FORMATS, default="table")
    summary.set_defaults(handler=lambda args: cmd_summary(args, open_session))
    lists = {}
    for each in [pack] if pack else packs():
        lists.update({listing.name: listing for listing in each.processing.lists})
    for listing in lists.values():
        sub = command(actions, listing.name, f"{listing.title.lower()}, newest first")
        if listing.filter:
            sub.add_argument(f"--{listing.filter}", choices=listing.choices)
        sub.add_argument("--limit", type=int, default=history.PAGE, help="at most this many")
        sub.add_argument("--format", choices=FORMATS, default="table")
        sub.set_defaults(handler=lambda args: cmd_list(args, open_session))


def cmd_summary(args: argparse.Namespace, open_session: Opener) -> int:
    db = open_session(args).db
    print(render_rows(history.summary(db), db.pack.processing.summary_columns, args.format))
    return 0


def cmd_list(args: argparse.Namespace, open_session: Opener) -> int:
    db = open_session(args).db
    listing = history.get_list(db, args.action)
    choice = getattr(args, listing.filter, None) if listing.filter else None
    found = history.page(db, listing, choice, limit=args.limit)
    print(render_rows(found.rows, listing.columns, args.format))
    if args.format == "table" and found.after:
        print(f"newest {len(found.rows)}; more match (raise --limit)", file=sys.stderr)
    return 0
