"""`adminui queries list|vet`: every vetted statement, and the lock that records them reviewed."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from adminui import vetting
from adminui.output import FORMATS, render_rows

COLUMNS = ("name", "mode", "params", "source", "doc")


def add_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `queries list` and `queries vet` (they need no database)."""
    group = command(commands, "queries", "the vetted SQL statements and their lock")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = command(actions, "list", "every statement with its mode and params")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=cmd_list)
    vet = command(actions, "vet", f"record the query files as reviewed ({vetting.LOCK_NAME})")
    vet.set_defaults(handler=cmd_vet)


def cmd_list(args: argparse.Namespace) -> int:
    print(render_rows(vetting.statements(), COLUMNS, args.format))
    return 0


def cmd_vet(args: argparse.Namespace) -> int:
    directory = vetting.default_query_dir()
    changes = vetting.vet(directory)
    print(
        f"Recorded {len(vetting.digests(directory))} query files in {directory / vetting.LOCK_NAME}"
    )
    for change in changes:
        print(f"  {change}")
    return 0
