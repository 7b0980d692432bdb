"""adminui at a distance (#19): the CLI's commands and the TUI's actions through a loopback
proxy that delays each direction by D ms (bench/delay_proxy.py), at D = 0, 25 and 50 ms: wall
time, the round trips each implies ((t(D) - t(0)) / 2D), and the round trips counted on the
wire (each time the client speaks after the server did, over every connection).

    python -m bench.latency [--users 2000] [--delays 0,25,50] [--repeat 3]

The CLI's commands run as processes, as an operator runs them, with the product named (as a
profile's `product` names it; unnamed, recognising it from the tables is one more round
trip), against psql running the same SQL: each command is first run in-process with its
statements recorded (names and values), then psql gets them literally, in one `-c` (one
message: BEGIN, the statements, COMMIT). Both connect through the proxy.

The TUI's actions (bench/tui_latency.py) run in-process on the real app, against raw psycopg
sending the same statements in one pipeline on a warm connection.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import make_url

from adminui import cli
from adminui.config import Profile
from adminui.db import Database
from adminui.demo import build_demo
from bench.delay_proxy import DelayProxy
from bench.tui_latency import recorded, tui_actions
from tests.pg_cluster import PG_PASSWORD, start_cluster

# The app's own session statements: what psql has no need of.
SESSION = {"transaction_settings", "connection_search_path", "write_privileges", "live_tables"}
# The product, named as a profile names it.
PRODUCT = ["--product", "idea-expansion"]


def commands(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Each command of the issue's table, with values from the database at hand."""
    (email,) = conn.execute(
        "SELECT u.email FROM users u JOIN payment_receipts r ON r.user_id = u.id "
        "GROUP BY u.email ORDER BY count(*) DESC, u.email LIMIT 1"
    ).fetchone()
    return {
        "users show EMAIL": ["users", "show", email],
        "users find EMAIL": ["users", "find", email],
        "receipts pending": ["receipts", "pending"],
        "executions --limit 20": ["executions", "--limit", "20"],
        "payments summary": ["payments", "summary"],
        "grant (preview + write)": [
            "grant",
            email,
            "1",
            "1.00",
            "--ref",
            "BENCH-{n}",
            "--yes",
            "--format",
            "json",
        ],
    }


def psql_script(db: Database, conn: psycopg.Connection, ran: list[tuple[str, dict]]) -> str:
    """The statements a command ran, with their values written in, in one transaction."""
    cursor = psycopg.ClientCursor(conn)
    lines = ["BEGIN"]
    for name, values in ran:
        if name not in SESSION:
            lines.append(cursor.mogrify(db.statement(name).pyformat, values))
    return ";\n".join([*lines, "COMMIT"]) + ";"


def run_in_process(url: str, argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["--url", url, *PRODUCT, *argv])
    if code != 0:
        raise SystemExit(f"bench: adminui {' '.join(argv)} exited {code}")


def timed(argv: list[str], env: dict[str, str], proxy: DelayProxy) -> tuple[float, int]:
    """A process's wall time (s) and the round trips counted meanwhile."""
    trips = proxy.trips
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {argv[:4]}... failed: {done.stderr[-300:]}")
    time.sleep(0.05)  # the proxy reads the process's last message (its Terminate) meanwhile
    return elapsed, proxy.trips - trips


# Per label and delay: (app s, baseline s, app trips counted, baseline trips counted), medians.
Results = dict[str, dict[float, tuple[float, float, float, float]]]


def cli_commands(
    server_url: str, db: Database, delays: list[float], repeat: int, env: dict[str, str]
) -> Results:
    """Every command of the issue's table as a process, against psql, at each delay."""
    full = make_url(server_url)
    psql = shutil.which("psql") or "psql"
    with psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True) as conn:
        cases = commands(conn)
        scripts = {}
        for label, argv in cases.items():
            with recorded() as ran:
                run_in_process(server_url, [a.replace("{n}", "R") for a in argv])
            scripts[label] = psql_script(db, conn, ran)
    results: Results = {label: {} for label in cases}
    serial = 0
    for delay in delays:
        with DelayProxy(full.host or "127.0.0.1", full.port or 5432, delay) as proxy:
            app_url = full.set(port=proxy.port).render_as_string(hide_password=False)
            psql_url = app_url.replace("postgresql+psycopg", "postgresql")
            for label, argv in cases.items():
                app, base = [], []
                for _ in range(repeat):
                    serial += 1
                    filled = [a.replace("{n}", str(serial)) for a in argv]
                    adminui = [sys.executable, "-m", "adminui", "--url", app_url, *PRODUCT]
                    app.append(timed([*adminui, *filled], env, proxy))
                    quiet = [psql, psql_url, "-X", "-q", "-o", os.devnull]
                    base.append(timed([*quiet, "-c", scripts[label]], env, proxy))
                results[label][delay] = medians(app, base)
    return results


def medians(app: list[tuple[float, int]], base: list[tuple[float, int]]) -> tuple[float, ...]:
    """(app s, baseline s, app trips, baseline trips), each the median of its runs."""
    return tuple(statistics.median(x[i] for x in runs) for i in (0, 1) for runs in (app, base))


def tui(
    url: Any, password: str, db: Database, delays: list[float], repeat: int, search: str
) -> Results:
    """Every TUI action against raw psycopg, at each delay."""
    results: Results = {}
    for delay in delays:
        runs: dict[str, tuple[list, list]] = {}
        for _ in range(repeat):
            for action, (measure, base) in tui_actions(url, password, delay, search, db).items():
                app, raw = runs.setdefault(action, ([], []))
                app.append((measure.seconds, measure.trips))
                raw.append(base)
        for action, (app, raw) in runs.items():
            results.setdefault(action, {})[delay] = medians(app, raw)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--delays", default="0,25,50")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    with start_cluster() as server:
        server.psql("CREATE DATABASE bench")
        url = server.url("bench")
        full = make_url(url)
        db = Database(Profile("bench", full.set(password=None)), full.password)
        build_demo(db, args.users, now=datetime.now(UTC), orphans=False)
        env = {**os.environ, "ADMINUI_PASSWORD": PG_PASSWORD, "PGPASSWORD": PG_PASSWORD}
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            (search,) = conn.execute(
                "SELECT lower(split_part(name, ' ', 1)) FROM users WHERE name IS NOT NULL "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ).fetchone()
        cli_results = cli_commands(url, db, delays, args.repeat, env)
        tui_results = tui(full.set(password=None), PG_PASSWORD, db, delays, args.repeat, search)
        db.dispose()
    print(f"{args.users:,} users; medians of {args.repeat} runs; D: delay each way, ms")
    print("\nThe CLI (processes; baseline: psql -c of the same SQL in one transaction)")
    report(cli_results, delays, "psql")
    print(f"\nThe TUI (in-process; baseline: raw psycopg, one pipeline; search {search!r})")
    report(tui_results, delays, "raw")


def report(results: Results, delays: list[float], baseline: str) -> None:
    """Wall times, implied round trips and counted ones, app beside its baseline."""
    far = [d for d in delays if d > 0]
    head = f"{'':26}" + "".join(f" {'app ' + format(d, 'g'):>8} {baseline:>6}" for d in delays)
    head += "".join(f" {'RT app ' + format(d, 'g'):>9} {baseline:>5}" for d in far)
    head += f" {'counted':>8} {baseline:>5} {'+RT':>4}"
    print("wall time in s; RT: round trips implied, (t(D) - t(0)) / 2D; counted on the wire")
    print(head)
    for label, by_delay in results.items():
        line = f"{label:26}" + "".join(
            f" {by_delay[d][0]:8.3f} {by_delay[d][1]:6.3f}" for d in delays
        )
        base_app, base_other = by_delay[delays[0]][:2]
        for d in far:
            app_rt = (by_delay[d][0] - base_app) / (2 * d / 1000)
            other_rt = (by_delay[d][1] - base_other) / (2 * d / 1000)
            line += f" {app_rt:9.1f} {other_rt:5.1f}"
        counted = by_delay[delays[-1]]
        line += f" {counted[2]:8g} {counted[3]:5g} {counted[2] - counted[3]:+4g}"
        print(line)


if __name__ == "__main__":
    main()
