"""A product's money checks under its own command name (OmniChat's `adminui ledger-health`,
filepath's `adminui budgets`), for scripts and people; exit 0 either way (what they find is
data, not a failure), what was left out on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.errors import AdminError
from adminui.ops.reports import LIMIT, read_all
from adminui.output import FORMATS, json_value, render_rows
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
    """Register each product's checks command (before the product is known, every one)."""
    for named in {p.health_command: p for p in ([pack] if pack else packs()) if p.health}.values():
        titles = "; ".join(c.title for c in named.health)
        health = command(commands, named.health_command, f"{named.title}: {titles}")
        health.add_argument(
            "--check", choices=[c.name for c in named.health], help="only this check"
        )
        health.add_argument("--limit", type=int, default=LIMIT, help="at most this many per check")
        health.add_argument("--format", choices=FORMATS, default="table")
        health.set_defaults(handler=lambda args: cmd_health(args, open_session))


def cmd_health(args: argparse.Namespace, open_session: Opener) -> int:
    db = open_session(args).db
    if db.pack.health_command != args.command:
        raise AdminError(
            f"'{args.command}' is another product's; {db.pack.title}'s checks are "
            f"'adminui {db.pack.health_command}'."
        )
    findings = read_all(db, "health", args.limit, only=args.check)
    if args.format == "json":
        print(
            json.dumps(
                {
                    f.report.name: {
                        "found": f.found,
                        "rows": [{c: json_value(r[c]) for c in f.report.columns} for r in f.rows],
                    }
                    for f in findings
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    for finding in findings:
        if args.format == "table":
            print(f"\n{finding.report.title}: {finding.found:,} found")
        if args.format != "json":
            print(render_rows(finding.rows, finding.report.columns, args.format))
        if finding.found > len(finding.rows):
            shown = f"{finding.report.name}: {len(finding.rows):,} of {finding.found:,} shown"
            print(f"{shown} (raise --limit)", file=sys.stderr)
    return 0
