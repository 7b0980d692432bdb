"""A D1 database's local copy: `wrangler d1 execute --local` (and `wrangler dev`) keep each
database of a project as a SQLite file under `.wrangler/state/v3/d1/` (miniflare's
`miniflare-D1DatabaseObject/<hash>.sqlite`), named by a hash, not by the database. `--d1-local
DIR` finds it there so the operator need not: one file is used, several are listed and one is
asked for at a terminal (a script is told to name it with --url)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from adminui.connect import sqlite_url
from adminui.errors import InputError, SetupError

STATE = Path(".wrangler") / "state" / "v3" / "d1"


def sqlite_files(folder: str) -> tuple[Path, list[Path]]:
    """The project's D1 state folder and the SQLite files in it, newest first."""
    root = Path(folder).expanduser() / STATE
    if not root.is_dir():
        raise SetupError(
            f"{folder} has no {STATE}: run `wrangler d1 execute DB --local` there first (it "
            "makes the local copy), or give the file with --url sqlite:///PATH."
        )
    found = [  # following links: a state folder may be linked in from elsewhere
        Path(top) / name
        for top, _, names in os.walk(root, followlinks=True)
        for name in names
        if name.endswith(".sqlite")
    ]
    return root, sorted(found, key=lambda p: (-changed(p), str(p)))


def changed(path: Path) -> float:
    """When the database last changed: its file's time, or its write-ahead log's, which is all
    that a commit in WAL mode touches."""
    wal = path.with_name(path.name + "-wal")
    return max(path.stat().st_mtime, wal.stat().st_mtime if wal.is_file() else 0.0)


def describe(path: Path, root: Path) -> str:
    """One file as the list shows it: its path below the state folder, size and last change."""
    when = datetime.fromtimestamp(changed(path), UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{path.relative_to(root)} ({path.stat().st_size:,} bytes, changed {when})"


def ask(files: list[Path], root: Path, stdin: TextIO = sys.stdin, out: TextIO = sys.stderr) -> Path:
    """Which of several files, asked at the terminal by number."""
    print(f"{root} holds {len(files)} D1 databases:", file=out)
    for number, path in enumerate(files, start=1):
        print(f"  {number}. {describe(path, root)}", file=out)
    print(f"Which one (1-{len(files)})? ", end="", file=out, flush=True)
    answer = stdin.readline().strip()
    if not (answer.isascii() and answer.isdigit()) or not 1 <= int(answer) <= len(files):
        raise InputError("--d1-local", f"{answer[:20]!r} is not one of 1 to {len(files)}")
    return files[int(answer) - 1]


def d1_local_url(folder: str, choose: Callable[[list[Path], Path], Path] | None = None) -> str:
    """The sqlite:/// URL of the project's one local D1 database; with several, the one
    `choose` picks (None, as in a script: a SetupError listing them)."""
    root, files = sqlite_files(folder)
    if not files:
        raise SetupError(f"{root} holds no .sqlite file: no D1 database was used locally yet.")
    if len(files) > 1 and choose is None:
        listed = "; ".join(describe(p, root) for p in files)
        raise SetupError(
            f"{root} holds {len(files)} D1 databases ({listed}); give one with --url sqlite:///PATH."
        )
    chosen = files[0] if len(files) == 1 else choose(files, root)
    return sqlite_url(chosen).render_as_string()
