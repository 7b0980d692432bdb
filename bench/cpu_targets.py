"""The two CPU-bound targets of #19 on a loaded database (bench/make_scale.py, 200,000 users):
a common last name's search, and payments by user against a bare GROUP BY.

    python -m bench.make_scale            # prints URL
    python -m bench.cpu_targets --url URL [--repeat 30]

With the recommended indexes (those the database lacks are created, and dropped again after):
the user search (`ops.users.find_users`) for the most common last name, as typed (its whole
text), through the app and as raw psycopg with the same SQL; and the payers summary
(`ops.payments.by_user`, the top 100) through the app, against a bare `SELECT user_id FROM
payment_receipts WHERE status = 'verified' GROUP BY user_id` (no sums, no sort, no join) by raw
psycopg, interleaved in one run. p50 / p95 in ms.

Targets (#19): the search p95 < 50 ms; payments by user <= 1.2x the bare GROUP BY.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import psycopg

from adminui.config import url_profile
from adminui.db import Database
from adminui.ops import payments, users
from bench.run import create_recommended

BARE = "SELECT user_id FROM payment_receipts WHERE status = 'verified' GROUP BY user_id"


def p50_p95(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    profile = url_profile(args.url)
    db = Database(profile, profile.url.password)
    conninfo = profile.url.set(drivername="postgresql").render_as_string(hide_password=False)
    raw = psycopg.connect(conninfo, autocommit=True)
    created = create_recommended(raw)
    raw.execute("ANALYZE")
    try:
        (name, share) = raw.execute(
            "SELECT lower(split_part(name, ' ', 2)), count(*) FROM users "
            "WHERE name LIKE '% %' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()
        total = raw.execute("SELECT count(*) FROM users").fetchone()[0]
        search_sql = db.statement("find_users").pyformat
        values = {"pattern": f"%{name}%", "id_low": None, "id_high": None, "limit": 100}
        sides: dict[str, list[float]] = {
            "search, app": [],
            "search, raw": [],
            "payments by user, app": [],
            "bare GROUP BY, raw": [],
        }
        calls: dict[str, Callable[[], object]] = {
            "search, app": lambda: users.find_users(db, name),
            "search, raw": lambda: raw.execute(search_sql, values).fetchall(),
            "payments by user, app": lambda: payments.by_user(db, 100),
            "bare GROUP BY, raw": lambda: raw.execute(BARE).fetchall(),
        }
        for call in calls.values():  # warm the caches and the pool
            call()
        for _ in range(args.repeat):
            for label, call in calls.items():
                sides[label].append(timed(call))
    finally:
        for index in created:
            raw.execute(f"DROP INDEX IF EXISTS {index}")
        raw.close()
        db.dispose()
    print(f"{total:,} users; the most common last name {name!r}: {share:,} users")
    print(f"created for the run: {', '.join(created) or 'none (all there)'}")
    figures = {label: p50_p95(times) for label, times in sides.items()}
    for label, (p50, p95) in figures.items():
        print(f"  {label:24} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    search_p95 = figures["search, app"][1]
    ratio = figures["payments by user, app"][0] / figures["bare GROUP BY, raw"][0]
    print(f"search p95 {search_p95:.1f} ms (target < 50: {'met' if search_p95 < 50 else 'short'})")
    print(f"payments by user / bare GROUP BY, p50: {ratio:.2f}x ", end="")
    print(f"(target <= 1.2x: {'met' if ratio <= 1.2 else 'short'})")


if __name__ == "__main__":
    main()
