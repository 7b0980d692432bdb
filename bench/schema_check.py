"""The schema check (#17) on the 200,000-user databases of bench/: Idea Expansion and fltr on
PostgreSQL, OmniChat's D1 file on SQLite. It reads the catalog, not the data, so its time
should not grow with the rows.

    python -m bench.schema_check [--users 200000] [--repeat 10] [--skip-pg] [--skip-d1]
                                 [--d1-path FILE]

For each database, side by side in one run, p50 / p95 in ms:
- app: `ops.schema_check.check` whole (every catalog statement, the comparison, the fixes, the
  recommended indexes), in-process on a warm pool;
- raw: the same catalog statements through bare psycopg (sqlite3) on an open connection;
- CLI and psql (PostgreSQL): `adminui schema check` as a process, against `psql -c` running the
  same catalog statements as a process (both start, connect and read).
Target (issue 17): the whole check < 2 s at 200,000 users.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from adminui.config import Profile
from adminui.db import Database
from adminui.ops import schema_check
from adminui.packs import DATA, MAIN, Pack, pack_named
from bench import d1_scale, fltr_across, make_scale
from bench.fltr_lookup import measure
from bench.params import CATALOG
from bench.run import clock, p50, p95
from tests.pg_cluster import start_cluster

TARGET_MS = 2000.0


def catalog_sql(db: Database) -> list[str]:
    return [db.statement(name).sql for name in CATALOG]


def raw_pg(url: str, db: Database) -> Callable[[], object]:
    conn = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
    statements = catalog_sql(db)

    def read() -> None:
        with conn.transaction():
            for sql in statements:
                conn.execute(sql).fetchall()

    return read


def processes(label: str, app: list[str], psql: list[str], repeat: int) -> None:
    """Wall time of two commands as processes, alternated."""
    times: dict[str, list[float]] = {"app": [], "psql": []}
    for _ in range(repeat):
        for side, argv in (("app", app), ("psql", psql)):
            times[side].append(
                clock(lambda a=argv: subprocess.run(a, capture_output=True, check=False))
            )
    a, b = times["app"], times["psql"]
    print(
        f"{label:34} {p50(a):8.0f} {p95(a):7.0f} {p50(b):8.0f} {p95(b):7.0f} "
        f"{p50(a) / p50(b):7.2f}x"
    )


def postgres(pack: Pack, urls: dict[str, str], repeat: int) -> None:
    full = {role: make_url(url) for role, url in urls.items()}
    main = full[MAIN]
    data = {"data_url": full[DATA].set(password=None)} if DATA in full else {}
    profile = Profile(name="bench", url=main.set(password=None), **data)
    db = Database(profile, main.password, pack=pack)
    report = schema_check.check(db)
    kinds = ", ".join(sorted({f.kind for f in report.findings}))
    print(f"\n{pack.title}: {len(report.findings)} findings ({kinds})")
    print(f"{'case':34} {'app p50':>8} {'p95':>7} {'raw p50':>8} {'p95':>7} {'app/raw':>8}")
    raws = [raw_pg(url, db) for url in urls.values()]
    measure(
        "schema check (in-process)",
        lambda: schema_check.check(db),
        lambda: [r() for r in raws],
        repeat,
    )
    options = ["--product", pack.name, "--url", urls[MAIN]]
    options += ["--data-url", urls[DATA]] if DATA in urls else []
    cli = [sys.executable, "-m", "adminui", *options, "schema", "check", "--format", "json"]
    psql = [shutil.which("psql") or "psql", "-X", "-q", urls[MAIN].replace("+psycopg", "")]
    psql += ["-c", ";\n".join(catalog_sql(db)) + ";"]
    print(f"{'':34} {'CLI p50':>8} {'p95':>7} {'psql p50':>8} {'p95':>7} {'CLI/psql':>8}")
    processes("adminui schema check (a process)", cli, psql, max(3, repeat // 2))
    db.dispose()


def d1(path: Path, users: int, repeat: int) -> None:
    d1_scale.build(path, users, {"messages": 3_000_000, "api_usage": 1_500_000})
    pack = pack_named("omnichat")
    db = Database(Profile("bench", make_url(f"sqlite:///{path}")), pack=pack)
    conn = sqlite3.connect(path)
    statements = catalog_sql(db)  # SQLite's
    report = schema_check.check(db)
    print(f"\n{pack.title}: {len(report.findings)} findings")
    print(f"{'case':34} {'app p50':>8} {'p95':>7} {'raw p50':>8} {'p95':>7} {'app/raw':>8}")
    measure(
        "schema check (in-process)",
        lambda: schema_check.check(db),
        lambda: [conn.execute(sql).fetchall() for sql in statements],
        repeat,
    )
    conn.close()
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-d1", action="store_true")
    parser.add_argument("--d1-path", type=Path, default=Path("/tmp/adminui-bench-omnichat.sqlite"))
    args = parser.parse_args()
    print(f"target: the whole check < {TARGET_MS:.0f} ms at {args.users:,} users")
    if not args.skip_pg:
        with start_cluster(**make_scale.CLUSTER) as server:
            server.psql("CREATE DATABASE bench")
            url = server.url("bench")
            seconds = make_scale.load(url, args.users, make_scale.parse_anchor(None))
            print(f"Idea Expansion loaded in {seconds:.0f} s")
            postgres(pack_named("idea-expansion"), {MAIN: url}, args.repeat)
            postgres(fltr_across.FLTR, fltr_across.load(server, args.users, "schema"), args.repeat)
    if not args.skip_d1:
        d1(args.d1_path, args.users, args.repeat)


if __name__ == "__main__":
    main()
