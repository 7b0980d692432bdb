"""Orphan cleanup at production size: the whole scan, and backing up, cleaning and restoring
100,000 orphans, through adminui's ops layer.

    python -m bench.orphans --url URL [--orphans 100000] [--repeat 3]
    python -m bench.orphans [--users 200000]    # starts a throwaway cluster, loads make_scale

The URL's database is one loaded by bench/make_scale.py; this script changes it: it drops the
ideas.user_id foreign key, plants the orphans as new ideas rows of users that don't exist
(existing rows are left alone), cleans them, restores them from the backup, cleans them again,
and adds the constraint back. It creates adminui's recommended indexes first (--no-indexes
doesn't): deleting ideas makes PostgreSQL null executions.selected_idea_id and outputs.idea_id
(ON DELETE SET NULL), which without an index scans both tables once per deleted row.
The scan is timed with every key in place, with the ideas.user_id key lost and its orphans planted
(seed 003), and in full (every check counted, even those a validated key enforces).
Targets (issue 6): the whole scan under 2 s; cleaning 100,000 orphans under 30 s, with progress.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psycopg
from sqlalchemy import make_url

from adminui.config import Profile
from adminui.db import Database
from adminui.ops import backups, orphans
from adminui.schema import expected_foreign_keys
from bench.make_scale import CLUSTER, load, parse_anchor
from bench.run import create_recommended
from tests.pg_cluster import start_cluster

CHECK = "ideas.user_id"
T = TypeVar("T")


def plant(url: str, n: int) -> None:
    """n ideas of users that don't exist, behind the app's back (as a lost FK lets happen)."""
    key = next(k for k in expected_foreign_keys() if f"{k.table}.{k.column}" == CHECK)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"ALTER TABLE ideas DROP CONSTRAINT IF EXISTS {key.name}")
        conn.execute(
            "INSERT INTO ideas (user_id, title, description, created_at) "
            "SELECT gen_random_uuid(), 'Orphan ' || g, repeat('x', 200), now() "
            "FROM generate_series(1, %s) g",
            (n,),
        )
        conn.execute("ANALYZE ideas")


def put_key_back(url: str) -> float:
    key = next(k for k in expected_foreign_keys() if f"{k.table}.{k.column}" == CHECK)
    start = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(key.ddl)
    return time.perf_counter() - start


def timed(label: str, call: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = call()
    print(f"{label:44} {time.perf_counter() - start:8.2f} s")
    return result


def time_scan(db: Database, repeat: int, label: str, *, full: bool = False) -> None:
    """The whole scan's p50; which checks it counted and what it found."""
    scans = []
    for _ in range(repeat):
        start = time.perf_counter()
        counts = orphans.scan(db, full=full)
        scans.append(time.perf_counter() - start)
    print(f"{f'whole scan, {label}, p50 of {repeat}':44} {statistics.median(scans):8.2f} s")
    counted = sum(c.enforced_by is None for c in counts)
    found = ", ".join(f"{c.check.name} {c.count:,}" for c in counts if c.count) or "none"
    print(f"  {counted} of {len(counts)} checks counted; orphans: {found}")


def run(url: str, n: int, repeat: int, indexes: bool) -> None:
    if indexes:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            created = create_recommended(conn)
        print(f"created the recommended indexes: {', '.join(created) or 'all there'}")
    full = make_url(url)
    db = Database(Profile(name="bench", url=full.set(password=None)), full.password)
    time_scan(db, repeat, "every key in place")
    plant(url, n)
    check = orphans.get_check(CHECK)
    print(f"planted {n:,} orphan ideas; scan says {orphans.count(db, check):,}")
    time_scan(db, repeat, f"{CHECK} key lost")
    time_scan(db, repeat, "full", full=True)
    steps: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        saved = timed(
            f"backup of {n:,} rows (JSON lines, fsynced)",
            lambda: backups.backup(db, check, Path(tmp) / "b.jsonl"),
        )
        size = saved.path.stat().st_size / 1e6
        result = timed(
            f"clean of {n:,} rows (batches of {orphans.BATCH:,})",
            lambda: orphans.clean(db, saved, "bench", progress=lambda d, t: steps.append(d)),
        )
        print(
            f"  acted on {result.acted_on:,}; progress reported {len(steps)} times; "
            f"backup {size:.1f} MB"
        )
        restored = timed(
            f"restore of {n:,} rows from the backup",
            lambda: backups.restore(db, backups.read_backup(saved.path), "bench"),
        )
        print(f"  restored {restored.restored:,}, refused {len(restored.refused)}")
        again = backups.backup(db, check, Path(tmp) / "c.jsonl")
        orphans.clean(db, again, "bench")
    print(f"{'re-adding the foreign key (validates)':44} {put_key_back(url):8.2f} s")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database loaded by bench/make_scale.py")
    parser.add_argument("--users", type=int, default=200_000, help="without --url: load size")
    parser.add_argument("--orphans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-indexes",
        action="store_true",
        help="don't create the recommended indexes first (deleting ideas then scans executions "
        "and outputs once per row: expect hours at 100,000)",
    )
    args = parser.parse_args()
    if args.url:
        run(args.url, args.orphans, args.repeat, not args.no_indexes)
        return
    with start_cluster(**CLUSTER) as server:
        server.psql("CREATE DATABASE bench")
        url = server.url("bench")
        print(f"loaded {args.users:,} users in {load(url, args.users, parse_anchor(None)):.0f} s")
        run(url, args.orphans, args.repeat, not args.no_indexes)


if __name__ == "__main__":
    main()
