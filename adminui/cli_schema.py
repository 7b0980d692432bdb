"""`adminui schema check`: the live schema against the product's expected one, and the
migrations folder against what the migration tool recorded (seeds 003, 004, 000).

Exit codes: 0 nothing drifted; 3 something did (so a health gate can run it: seed 000's
`gates/health.sh`); 1 bad input; 2 config or connection trouble, or a database of the product
the profile doesn't name (nothing could be said of it). A kind left out with --ignore neither
shows nor counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adminui.errors import UsageError
from adminui.ops import schema_check
from adminui.output import FORMATS, render_rows
from adminui.schema.drift import KINDS

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[..., "Session"]
DRIFTED = 3
COLUMNS = ("kind", "object", "expected", "actual", "fix")


def add_commands(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    group = command(commands, "schema", "the database's schema against the product's own")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = command(
        actions,
        "check",
        "every difference from the product's expected schema, with the DDL that fixes it "
        "(adminui never runs it); exit 3 when something drifted",
    )
    check.add_argument(
        "--migrations",
        metavar="DIR",
        type=Path,
        help="the product's migrations folder: files the database has not applied, and "
        "applied ones no file has",
    )
    check.add_argument(
        "--ignore",
        metavar="KIND",
        action="append",
        default=[],
        help=f"leave out a kind a team accepts (repeat, or comma-separate): {', '.join(KINDS)}",
    )
    check.add_argument("--format", choices=FORMATS, default="table")
    check.set_defaults(handler=lambda args: cmd_check(args, open_session))


def ignored_kinds(values: list[str]) -> frozenset[str]:
    """The --ignore values, each a known kind."""
    kinds = {k.strip() for value in values for k in value.split(",") if k.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise UsageError(
            f"--ignore: {', '.join(unknown)} is not a kind; the kinds are {', '.join(KINDS)}"
        )
    return frozenset(kinds)


def cmd_check(args: argparse.Namespace, open_session: Opener) -> int:
    ignore = ignored_kinds(args.ignore)
    db = open_session(args).db
    report = schema_check.check(db, ignore=ignore, migrations_dir=args.migrations)
    rows = [f.plain() for f in report.findings]
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        columns = ("database", *COLUMNS) if len(db.pack.databases) > 1 else COLUMNS
        print(render_rows([{"database": "", **r} for r in rows], columns, "csv"))
    else:
        _print_table(report, len(db.pack.databases) > 1)
    for why in report.unchecked:
        print(f"adminui: not checked: {why}", file=sys.stderr)
    if report.drifted:
        return DRIFTED
    return 2 if report.unchecked else 0


def _print_table(report: schema_check.SchemaReport, databases: bool) -> None:
    """The findings as a numbered table, then each one's fix under its number; on stderr, how
    many, and the recommended indexes that are missing (advice: they don't count)."""
    columns = ("#", *(("database",) if databases else ()), "kind", "object", "expected", "actual")
    rows = [{"#": n, **f.plain()} for n, f in enumerate(report.findings, 1)]
    if rows:
        print(render_rows([{"database": "", **r} for r in rows], columns, "table"))
        for n, finding in enumerate(report.findings, 1):
            print(f"\n-- [{n}] {finding.kind} {finding.object}\n{finding.fix}")
    shown = f"{len(rows)} difference{'s' if len(rows) != 1 else ''} from the product's schema"
    left = f" ({report.ignored} more of the kinds ignored)" if report.ignored else ""
    print(
        f"{shown}{left}." if rows else f"No drift: the schema is the product's{left}.",
        file=sys.stderr,
    )
    missing = [i for i in report.advice if not i.present]
    if missing:
        print(
            f"{len(missing)} recommended index{'es' if len(missing) != 1 else ''} missing (advice, "
            "not drift): adminui orphans indexes",
            file=sys.stderr,
        )
