"""`adminui usage NAME` and `adminui money NAME`: a product's report jobs for scripts and people
(OmniChat's usage and money), one subcommand per report of its manifest, each with the filters
its statement offers; --format csv|json is the export."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.ops import reports
from adminui.ops.windows import parse_since
from adminui.output import FORMATS, render_rows
from adminui.packs import Pack, packs
from adminui.queries import Registry

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[[argparse.Namespace], "Session"]
# Each report job: its command and what it is for.
JOBS = {
    "usage": "usage: api requests newest first, top users, battery by model, the daily summaries",
    "money": "money: the ledger by month and type, subscriptions and MRR (export: --format csv)",
}
OPTIONS = {
    "user": ("--user", {"metavar": "EMAIL|ID", "help": "one user's"}),
    "model": ("--model", {"help": "one model's, as stored (gpt-4o)"}),
    "day": ("--day", {"metavar": "DATE", "help": "one day's (2026-11-30, the app's day)"}),
    "since": ("--since", {"help": "from then on: 24h, 7d, 12m or a date"}),
}


def add_commands(
    commands: Any,
    command: Callable[..., argparse.ArgumentParser],
    open_session: Opener,
    pack: Pack | None,
) -> None:
    """Register each report job the product offers (before the product is known, every
    product's), a subcommand per report."""
    offering = [pack] if pack else packs()
    registries: dict[str, Registry] = {}  # each pack's statements, parsed once (every CLI start)
    for job, help_text in JOBS.items():
        found = {r.name: (p, r) for p in offering if job in p.jobs for r in p.reports_of(job)}
        if not found:
            continue
        group = command(commands, job, help_text)
        actions = group.add_subparsers(dest="action", metavar="REPORT", required=True)
        for name, (owner, report) in found.items():
            sub = command(actions, name, report.title)
            if owner.folder not in registries:
                registries[owner.folder] = Registry.load(pack=owner.folder)
            params = registries[owner.folder].get(report.statement).params
            for label in reports.offered(params):
                flag, options = OPTIONS[label]
                sub.add_argument(flag, **options)
            sub.add_argument("--limit", type=int, default=reports.LIMIT, help="at most this many")
            sub.add_argument("--format", choices=FORMATS, default="table")
            sub.set_defaults(handler=lambda args, job=job: cmd_report(args, job, open_session))


def cmd_report(args: argparse.Namespace, job: str, open_session: Opener) -> int:
    db = open_session(args).db
    report = reports.get_report(db, job, args.action)
    since = getattr(args, "since", None)
    found = reports.read(
        db,
        report,
        user=getattr(args, "user", None),
        model=getattr(args, "model", None),
        day=getattr(args, "day", None),
        since=parse_since(since) if since else None,
        limit=args.limit,
    )
    print(render_rows(found.rows, report.columns, args.format))
    if args.format == "table" and found.total is not None:
        print(f"{reports.words(report.total)}: {found.total:,}")
    if found.more:
        more = f"{found.found:,} in all" if found.found > len(found.rows) else "more match"
        print(f"{report.name}: {len(found.rows):,} shown, {more} (raise --limit)", file=sys.stderr)
    return 0
