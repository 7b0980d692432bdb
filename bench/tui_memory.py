"""The app's memory after paging through N executions in the TUI, driven headless.

    python -m bench.tui_memory --url URL [--rows 100000]

Runs the real AdminApp with App.run_test(), opens the executions screen and moves the cursor to
the last loaded row until N runs are loaded (each move near the end loads the next page, as
scrolling does), then prints one JSON line: rows loaded, pages, seconds, the process's RSS
(VmRSS) and its peak (VmHWM) in MiB. A process of its own, so the figure is the app's alone.
Target (issue 7): RSS < 200 MB after 100,000 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from adminui.config import Config, url_profile
from adminui.db import Database
from adminui.tui.app import AdminApp
from adminui.tui.paged_table import PagedTable


def status_mib(key: str) -> float:
    """A memory figure of this process from /proc/self/status, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"/proc/self/status has no {key}")


async def page_through(db: Database, rows: int) -> dict[str, float]:
    """Open the executions screen and load pages until `rows` are loaded or none are left."""
    app = AdminApp(db, Config())
    started = time.perf_counter()
    pages = 0
    async with app.run_test(size=(160, 48)) as pilot:
        app.open_executions()
        await pilot.pause()
        table = app.screen.query_one("#runs-table", PagedTable)
        deadline = time.perf_counter() + 60
        while not table.read:  # the first page (the screen applies its window first)
            if time.perf_counter() > deadline:
                raise SystemExit("the executions screen never showed a page")
            await pilot.pause(0.05)
        while True:
            await app.workers.wait_for_complete()
            await pilot.pause()
            loaded = table.read
            if loaded >= rows:
                break
            table.action_scroll_bottom()  # the cursor at the end asks for the next page
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            if table.read == loaded:
                break  # no more runs
            pages += 1
        return {
            "rows": table.read,
            "held": table.row_count,
            "pages": pages + 1,
            "seconds": round(time.perf_counter() - started, 1),
            "rss_mib": round(status_mib("VmRSS"), 1),
            "peak_mib": round(status_mib("VmHWM"), 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    profile = url_profile(args.url)
    db = Database(profile, profile.url.password)
    try:
        print(json.dumps(asyncio.run(page_through(db, args.rows))))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
