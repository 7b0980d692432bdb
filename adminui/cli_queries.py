"""`adminui queries list|vet|generate`: every vetted statement, the lock that records them
reviewed, and the statements generated from each pack's manifest."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from adminui import vetting
from adminui.output import FORMATS, render_rows
from adminui.packs import load_pack, pack_folders
from adminui.schema.orphan_sql import generated_files

COLUMNS = ("name", "mode", "params", "source", "doc")


def add_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `queries list`, `queries vet` and `queries generate` (they need no database)."""
    group = command(commands, "queries", "the vetted SQL statements and their lock")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = command(actions, "list", "every statement with its mode and params")
    listing.add_argument("--format", choices=FORMATS, default="table")
    listing.set_defaults(handler=cmd_list)
    vet = command(actions, "vet", f"record the query files as reviewed ({vetting.LOCK_NAME})")
    vet.set_defaults(handler=cmd_vet)
    generate = command(actions, "generate", "rewrite the SQL generated from the packs' manifests")
    generate.set_defaults(handler=cmd_generate)


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


def cmd_generate(args: argparse.Namespace) -> int:
    changed = []
    for folder in pack_folders():
        for path, text in generated_files(load_pack(folder)).items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                changed.append(path)
    for path in changed:
        print(f"  rewrote {path}")
    print(
        f"{len(changed)} generated files changed; review them, then `adminui queries vet`"
        if changed
        else "The generated files are up to date"
    )
    return 0
