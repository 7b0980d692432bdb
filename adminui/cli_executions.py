"""`adminui executions`: failed runs for on-call, the failure summary, stuck runs, one run."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adminui.ops import executions
from adminui.ops.windows import Window, parse_window
from adminui.output import FORMATS, render_record, render_rows

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[[argparse.Namespace], "Session"]
COLUMNS = executions.VIEW_COLUMNS


def add_commands(
    commands: Any, command: Callable[..., argparse.ArgumentParser], open_session: Opener
) -> None:
    """Register `executions` (the list) and its `summary`, `stuck` and `show` actions."""
    group = command(commands, "executions", "executions newest first (failed runs for on-call)")
    group.add_argument("--status", help=f"one of {', '.join(executions.STATUSES)}")
    group.add_argument("--since", help="24h, 7d, 30d or a date")
    group.add_argument("--until", help="a date or 24h (runs that started before it)")
    group.add_argument("--user", metavar="EMAIL", help="only this user's executions")
    group.add_argument("--step", help="only this error_step")
    group.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    group.add_argument("--format", choices=FORMATS, default="table")
    group.set_defaults(handler=lambda args: cmd_list(args, open_session))
    actions = group.add_subparsers(dest="action", metavar="ACTION")
    summary = command(actions, "summary", "failures by error_step: count, users, latest")
    summary.add_argument("--since", help="24h, 7d, 30d or a date (default: all time)")
    summary.add_argument("--until", help="a date or 24h (default: now)")
    summary.add_argument("--format", choices=FORMATS, default="table")
    summary.set_defaults(handler=lambda args: cmd_summary(args, open_session))
    stuck = command(actions, "stuck", "runs still 'running' after stuck_after_minutes")
    stuck.add_argument("--format", choices=FORMATS, default="table")
    stuck.set_defaults(handler=lambda args: cmd_stuck(args, open_session))
    show = command(actions, "show", "one execution, every column, the whole error")
    show.add_argument("execution_id", metavar="ID")
    show.add_argument("--format", choices=FORMATS, default="table")
    show.set_defaults(handler=lambda args: cmd_show(args, open_session))


def _window(args: argparse.Namespace) -> Window:
    """The window the TUI's from/to would give, checked before connecting."""
    return parse_window(args.since or "", args.until or "")


def cmd_list(args: argparse.Namespace, open_session: Opener) -> int:
    window = _window(args)
    page = executions.list_executions(
        open_session(args).db,
        status=args.status,
        step=args.step,
        email=args.user,
        since=window.since,
        until=window.until,
        limit=args.limit,
    )
    print(render_rows([dataclasses.asdict(r) for r in page.rows], COLUMNS["list"], args.format))
    if args.format == "table" and page.after:
        print(f"first {len(page.rows)}; more match (raise --limit)", file=sys.stderr)
    return 0


def cmd_summary(args: argparse.Namespace, open_session: Opener) -> int:
    window = _window(args)
    rows = executions.failure_summary(open_session(args).db, window.since, window.until)
    print(render_rows([dataclasses.asdict(r) for r in rows], COLUMNS["summary"], args.format))
    return 0


def cmd_stuck(args: argparse.Namespace, open_session: Opener) -> int:
    session = open_session(args)
    rows = executions.stuck_executions(session.db, session.config.stuck_after_minutes)
    print(render_rows([dataclasses.asdict(r) for r in rows], COLUMNS["list"], args.format))
    if args.format == "table":
        print(
            f"{len(rows)} running for more than {session.config.stuck_after_minutes} minutes",
            file=sys.stderr,
        )
    return 0


def cmd_show(args: argparse.Namespace, open_session: Opener) -> int:
    detail = dataclasses.asdict(executions.get_execution(open_session(args).db, args.execution_id))
    if args.format != "table":
        print(render_record(detail, args.format))
        return 0
    # The error is printed once, whole, below the other fields (a table cell would cut it).
    print(render_record({k: v for k, v in detail.items() if k != "error_message"}, "table"))
    if detail["error_message"]:
        print(f"\nerror_message:\n{detail['error_message']}")
    print(f"\nOutputs: {len(detail['outputs']) or 'none'}")
    if detail["outputs"]:
        print(
            render_rows(
                detail["outputs"],
                ("format", "published", "publication_url", "created_at", "id"),
                "table",
            )
        )
    return 0
