"""First paint: `adminui demo` until the newest user's email is on screen, against a bare Textual
app showing a DataTable, timed in tmux in the same run by ../shared/tools/first_paint.py.

    python bench/first_paint.py [--runs 10]

Target (issue 2): at most 2x the bare app.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from adminui import connect
from adminui.ops import users

HERE = Path(__file__).resolve().parent
TOOL = HERE.parents[1] / "shared" / "tools" / "first_paint.py"


def median_of(output: str) -> float:
    match = re.search(r"median ([0-9.]+)", output)
    if not match:
        raise SystemExit(f"first_paint.py printed no median:\n{output}")
    return float(match.group(1))


def time_paint(pattern: str, runs: int, command: str) -> tuple[float, str]:
    done = subprocess.run(
        [sys.executable, str(TOOL), pattern, str(runs), "--", command],
        capture_output=True,
        text=True,
        check=True,
    )
    return median_of(done.stdout), done.stdout.strip()


def compare(runs: int) -> tuple[float, float, str]:
    """Median first paint of the bare app and of `adminui demo` (seconds), and the tool's lines."""
    adminui = shutil.which("adminui")
    if not adminui or not TOOL.is_file() or not shutil.which("tmux"):
        raise SystemExit("needs tmux, the adminui command (pip install -e .) and ../shared/tools")
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo.sqlite"
        subprocess.run(
            [adminui, "demo", "--path", str(demo), "--no-open"], check=True, capture_output=True
        )
        db = connect.open_demo(demo).db
        newest = users.recent_users(db, 1).rows[0].email
        db.dispose()
        bare, bare_line = time_paint(
            "bare-row-0000", runs, f"{sys.executable} {HERE / 'bare_datatable.py'}"
        )
        app, app_line = time_paint(newest, runs, f"{adminui} demo --path {demo}")
    return bare, app, f"bare Textual DataTable: {bare_line}\nadminui demo:           {app_line}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    bare, app, lines = compare(args.runs)
    print(lines)
    verdict = "meets" if app <= 2 * bare else "misses"
    print(
        f"first paint: adminui {app:.3f} s vs bare {bare:.3f} s = {app / bare:.2f}x "
        f"(target <= 2x: {verdict})"
    )


if __name__ == "__main__":
    main()
