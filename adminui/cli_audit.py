"""`adminui audit verify`: check the audit log's hash chain and name the first line that breaks it,
and list the writes whose outcome was never recorded (to look up in the database)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adminui import audit
from adminui.errors import AdminError


def add_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `audit verify` (it needs no database)."""
    group = command(commands, "audit", "the audit log of every write")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = command(actions, "verify", "check the log's hash chain; list writes without outcome")
    verify.add_argument("--file", metavar="PATH", help=f"the log (default: {audit.audit_path()})")
    verify.set_defaults(handler=cmd_verify)


def _write_line(entry: dict[str, Any], what: str) -> str:
    ids = ", ".join(f"{key} {value}" for key, value in (entry.get("ids") or {}).items())
    return (
        f"  {entry.get('time', '')}  {entry.get('operation')} by {entry.get('operator')} on "
        f"{entry.get('host')}: {ids or 'no ids'} (transaction {entry.get('xid')}): {what}"
    )


def cmd_verify(args: argparse.Namespace) -> int:
    path = Path(args.file).expanduser() if args.file else audit.audit_path()
    if not path.is_file():
        raise AdminError(f"No audit log at {path}: nothing has been written from this machine.")
    found = audit.verify(path)
    if found.broken:
        raise AdminError(f"{path}: the chain breaks: {found.broken}.")
    chained = found.lines - found.unchained
    print(f"{path}: {chained} chained lines, the chain holds; head {found.head}")
    if found.unchained:
        print(
            f"{found.unchained} lines at the start were written before the log was chained "
            "(not checked).",
            file=sys.stderr,
        )
    for entry in found.open_writes:
        print(_write_line(entry, "no outcome recorded: look it up in the database"))
    for entry in found.unknown:
        print(_write_line(entry, "outcome unknown (COMMIT's reply was lost): look it up"))
    return 0
