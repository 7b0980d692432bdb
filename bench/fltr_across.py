"""The fltr check across databases (datasets.user_id -> fltr_auth.users) at production size:
time and memory of adminui's check beside raw psycopg doing the same batched comparison, and
beside the naive way (both key lists loaded whole, compared as sets), in one run.

    python -m bench.fltr_across [--users 240000] [--repeat 3]

Starts a throwaway cluster and fills fltr_auth and fltr from the pack's demo (`--users` users,
a dataset for every second one: 120,000 datasets at the default, plus the demo's orphans). Each
measurement runs in a forked process of its own, so its memory figure is its own: the peak
resident size (VmHWM, reset first) less the resident size when it started. Flat memory means
the check's figure does not grow with the number of datasets: it is measured at a tenth of the
size too. Target (issue 15): the check of 120,000 datasets under 5 s, with flat memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import make_url

from adminui.config import Profile
from adminui.db import Database
from adminui.ops import orphans
from adminui.pack_demo import create_schema, fill
from adminui.packs import DATA, MAIN, pack_named
from bench.make_scale import CLUSTER
from tests.pg_cluster import start_cluster

FLTR = pack_named("fltr")
DROP_KEYS = """
DO $$ DECLARE k record; BEGIN
  FOR k IN SELECT conrelid::regclass AS t, conname FROM pg_constraint WHERE contype = 'f' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.t, k.conname);
  END LOOP;
END $$"""
CHECK = "datasets.user_id"


def _status(field: str) -> int:
    """A VmRSS / VmHWM figure of this process, in KiB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def _measured(call: Callable[[], int], out: Any) -> None:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM starts again from the resident size now
    before = _status("VmRSS:")
    start = time.perf_counter()
    found = call()
    out.send((time.perf_counter() - start, (_status("VmHWM:") - before) / 1024, found))


def measure(call: Callable[[], int]) -> tuple[float, float, int]:
    """(seconds, MiB of resident memory gained at the peak, orphans found), in a fork."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    child = context.Process(target=_measured, args=(call, theirs))
    child.start()
    result = ours.recv()
    child.join()
    return result


def app_check(urls: dict[str, str]) -> int:
    main, data = (make_url(urls[role]) for role in (MAIN, DATA))
    profile = Profile(name="bench", url=main.set(password=None), data_url=data.set(password=None))
    db = Database(profile, main.password, pack=FLTR)
    try:
        return orphans.count(db, orphans.get_check(CHECK, FLTR))
    finally:
        db.dispose()


def raw_batched(urls: dict[str, str]) -> int:
    """What the check does, in bare psycopg: a keyset page of datasets, then which of their
    users exist, until the table ends (autocommit, one round trip per statement)."""
    found, after, page = 0, "00000000-0000-0000-0000-000000000000", orphans.CROSS_PAGE
    with (
        psycopg.connect(_plain(urls[DATA]), autocommit=True) as data,
        psycopg.connect(_plain(urls[MAIN]), autocommit=True) as auth,
    ):
        while True:
            rows = data.execute(
                "SELECT id, user_id FROM datasets WHERE id > %s ORDER BY id LIMIT %s",
                (after, page),
            ).fetchall()
            wanted = sorted({user for _, user in rows})
            present = {r[0] for r in auth.execute(PRESENT, (wanted,))}
            found += sum(user not in present for _, user in rows)
            if len(rows) < page:
                return found
            after = rows[-1][0]


PRESENT = "SELECT p.id FROM unnest(CAST(%s AS text[])) AS given(id) JOIN users p ON p.id = given.id"


def raw_whole(urls: dict[str, str]) -> int:
    """The naive way: every users id and every dataset's user_id in memory at once."""
    with (
        psycopg.connect(_plain(urls[DATA])) as data,
        psycopg.connect(_plain(urls[MAIN])) as auth,
    ):
        users = {r[0] for r in auth.execute("SELECT id FROM users")}
        datasets = data.execute("SELECT id, user_id FROM datasets").fetchall()
        return sum(user not in users for _, user in datasets)


def _plain(url: str) -> str:
    return url.replace("+psycopg", "")


def load(server: Any, users: int, tag: str) -> dict[str, str]:
    """fltr_auth and fltr, filled from the pack's demo with `users` users."""
    urls = {}
    for role, name in ((MAIN, f"fltr_auth_{tag}"), (DATA, f"fltr_{tag}")):
        server.psql(f"CREATE DATABASE {name}")
        urls[role] = server.url(name)
    full = {role: make_url(url) for role, url in urls.items()}
    databases = {
        role: Database(Profile(name=role, url=url.set(password=None)), url.password, pack=FLTR)
        for role, url in full.items()
    }
    start = time.perf_counter()
    create_schema(databases)
    for url in urls.values():  # the demo plants orphans, as lost keys let them in (seed 003)
        with psycopg.connect(_plain(url), autocommit=True) as conn:
            conn.execute(DROP_KEYS)
    fill(databases, users)
    for db in databases.values():
        db.dispose()
    for url in urls.values():  # as autovacuum would have, in a database that lived
        with psycopg.connect(_plain(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    with psycopg.connect(_plain(urls[DATA])) as conn:
        (datasets,) = conn.execute("SELECT count(*) FROM datasets").fetchone()
    print(f"loaded {users:,} users, {datasets:,} datasets in {time.perf_counter() - start:.0f} s")
    return urls


def run(server: Any, users: int, repeat: int) -> None:
    sizes = {"tenth": load(server, users // 10, "tenth"), "full": load(server, users, "full")}
    sides = {"adminui": app_check, "raw psycopg, batched": raw_batched, "raw, whole": raw_whole}
    print(f"\n{'size':6} {'side':22} {'p50 s':>8} {'max s':>8} {'peak MiB':>9} {'orphans':>8}")
    for size, urls in sizes.items():
        for side, call in sides.items():
            runs = [measure(lambda c=call, u=urls: c(u)) for _ in range(repeat)]
            seconds = [r[0] for r in runs]
            peak = max(r[1] for r in runs)
            print(
                f"{size:6} {side:22} {statistics.median(seconds):8.2f} {max(seconds):8.2f} "
                f"{peak:9.1f} {runs[0][2]:8,}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=240_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with start_cluster(**CLUSTER) as server:
        run(server, args.users, args.repeat)


if __name__ == "__main__":
    main()
