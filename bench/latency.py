"""adminui at a distance (#19): the CLI's commands through a loopback proxy that delays each
direction by D ms (bench/delay_proxy.py), against psql running the same SQL, at D = 0, 25 and
50 ms; wall time, and the round trips each implies ((t(D) - t(0)) / 2D).

    python -m bench.latency [--users 2000] [--delays 0,25,50] [--repeat 3] [--url URL]

The SQL psql runs is what the command ran: each command is first run in-process with its
statements recorded (names and values; the app's own session statements left out), then psql
gets them literally, in one `-c` (one message: BEGIN, the statements, COMMIT). Both are
processes that start, connect and read, as an operator runs them; both connect through the
proxy.
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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import make_url

from adminui import cli
from adminui import db as db_module
from adminui.config import Profile
from adminui.db import Database
from adminui.demo import build_demo
from bench.delay_proxy import DelayProxy
from bench.run import raw_sql
from tests.pg_cluster import PG_PASSWORD, start_cluster

# The app's own session statements: what psql has no need of (the round trips they cost are
# the app's overhead, which #19 folds away).
SESSION = {"transaction_settings", "connection_search_path", "write_privileges", "live_tables"}


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


@contextmanager
def recorded() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The statements (name, values) every transaction runs meanwhile, in order."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = db_module.Transaction._execute

    def execute(self: Any, name: str, params: Any, **kwargs: Any) -> Any:
        for one in params if isinstance(params, list) else [params]:
            seen.append((name, dict(one)))
        return original(self, name, params, **kwargs)

    db_module.Transaction._execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        db_module.Transaction._execute = original  # type: ignore[method-assign]


def psql_script(db: Database, conn: psycopg.Connection, ran: list[tuple[str, dict]]) -> str:
    """The statements a command ran, with their values written in, in one transaction."""
    cursor = psycopg.ClientCursor(conn)
    lines = ["BEGIN"]
    for name, values in ran:
        if name not in SESSION:
            lines.append(cursor.mogrify(raw_sql(db.statement(name).sql), values))
    return ";\n".join([*lines, "COMMIT"]) + ";"


def run_in_process(url: str, argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["--url", url, *argv])
    if code != 0:
        raise SystemExit(f"bench: adminui {' '.join(argv)} exited {code}")


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {argv[:4]}... failed: {done.stderr[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--delays", default="0,25,50")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    psql = shutil.which("psql") or "psql"
    with start_cluster() as server:
        server.psql("CREATE DATABASE bench")
        url = server.url("bench")
        full = make_url(url)
        db = Database(Profile("bench", full.set(password=None)), full.password)
        build_demo(db, args.users, now=datetime.now(UTC), orphans=False)
        env = {**os.environ, "ADMINUI_PASSWORD": PG_PASSWORD, "PGPASSWORD": PG_PASSWORD}
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            cases = commands(conn)
            scripts = {}
            for label, argv in cases.items():
                with recorded() as ran:
                    run_in_process(url, [a.replace("{n}", "R") for a in argv])
                scripts[label] = psql_script(db, conn, ran)
        results: dict[str, dict[float, tuple[float, float]]] = {label: {} for label in cases}
        serial = 0
        for delay in delays:
            with DelayProxy(full.host or "127.0.0.1", full.port or 5432, delay) as proxy:
                near = full.set(port=proxy.port, password=None)
                app_url = near.render_as_string(hide_password=False)
                psql_url = app_url.replace("postgresql+psycopg", "postgresql")
                for label, argv in cases.items():
                    app_times, psql_times = [], []
                    for _ in range(args.repeat):
                        serial += 1
                        filled = [a.replace("{n}", str(serial)) for a in argv]
                        app_times.append(
                            timed([sys.executable, "-m", "adminui", "--url", app_url, *filled], env)
                        )
                        psql_times.append(
                            timed(
                                [
                                    psql,
                                    psql_url,
                                    "-X",
                                    "-q",
                                    "-o",
                                    os.devnull,
                                    "-c",
                                    scripts[label],
                                ],
                                env,
                            )
                        )
                    results[label][delay] = (
                        statistics.median(app_times),
                        statistics.median(psql_times),
                    )
        db.dispose()
    report(results, delays)


def report(results: dict[str, dict[float, tuple[float, float]]], delays: list[float]) -> None:
    far = [d for d in delays if d > 0]
    head = f"{'command':26}" + "".join(f" {'app ' + format(d, 'g'):>9} {'psql':>7}" for d in delays)
    head += "".join(f" {'RT app ' + format(d, 'g'):>10} {'psql':>5} {'+RT':>5}" for d in far)
    print("wall time in s (median); RT: round trips implied, (t(D) - t(0)) / 2D")
    print(head)
    for label, by_delay in results.items():
        line = f"{label:26}" + "".join(
            f" {by_delay[d][0]:9.2f} {by_delay[d][1]:7.2f}" for d in delays
        )
        base_app, base_psql = by_delay[delays[0]]
        for d in far:
            app_rt = (by_delay[d][0] - base_app) / (2 * d / 1000)
            psql_rt = (by_delay[d][1] - base_psql) / (2 * d / 1000)
            line += f" {app_rt:10.1f} {psql_rt:5.1f} {app_rt - psql_rt:5.1f}"
        print(line)


if __name__ == "__main__":
    main()
