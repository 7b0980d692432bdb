"""Payment summaries on PostgreSQL at 400,000 receipts: each summary's latency and plan.

    python -m bench.payments [--receipts 400000] [--repeat 10]

Starts a throwaway cluster, loads 200,000 users and the receipts (24 months, 88% verified, 7%
pending, 5% refunded, varied amounts) server-side, then times each ops.payments call (p50 / p95)
and prints the scans of its plan. Target (issue 5): each summary under 300 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.ops import payments
from adminui.ops.windows import months_before
from adminui.schema import schema_sql
from tests.pg_cluster import PG_PASSWORD, start_cluster


def load_sql(receipts: int) -> list[str]:
    return [
        "INSERT INTO users (email, name, created_at) SELECT 'payer' || g || '@example.com', "
        "'Payer ' || g, now() - make_interval(days => g % 800) FROM generate_series(1, 200000) g",
        f"""INSERT INTO payment_receipts (user_id, amount_usd, credits_purchased, bmc_reference,
              status, verified_by, created_at, verified_at)
            SELECT u.id, (ARRAY[5.00, 9.00, 20.00, 37.50, 70.00, 3.33, 0.10])[1 + g % 7],
                   (ARRAY[5, 10, 25, 50, 100, 3, 1])[1 + g % 7], 'BMC-' || g,
                   CASE WHEN g % 100 < 88 THEN 'verified' WHEN g % 100 < 95 THEN 'pending'
                        ELSE 'refunded' END, 'bench',
                   now() - make_interval(secs => (g * 157) % (730 * 86400)),
                   now() - make_interval(secs => (g * 157) % (730 * 86400))
            FROM generate_series(1, {receipts}) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM users) u
              ON u.rn = 1 + g % 200000""",
        "VACUUM ANALYZE",
    ]


def plan(conn: psycopg.Connection, db: Database, name: str, params: dict) -> str:
    sql = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", db.statement(name).sql)
    lines = [r[0].strip().lstrip("-> ") for r in conn.execute(f"EXPLAIN {sql}", params)]
    return "; ".join(sorted({re.sub(r"\s+\(cost.*", "", x) for x in lines if "Scan" in x}))


def timed(label: str, repeat: int, call: Callable[[], object], how: str) -> None:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(times, n=20)[18] if repeat >= 2 else times[0]
    verdict = "meets" if p95 < 300 else "misses"
    print(
        f"  {label:26} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms "
        f"(< 300 ms: {verdict})  {how}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with start_cluster(shared_buffers="512MB", work_mem="32MB") as server:
        server.psql("CREATE DATABASE bench")
        profile = Profile("bench", normalize_url(server.url("bench", password=False), "bench"))
        db = Database(profile, PG_PASSWORD)
        db.run_script(schema_sql("postgresql"))
        with psycopg.connect(server.url("bench").replace("+psycopg", ""), autocommit=True) as c:
            started = time.perf_counter()
            for statement in load_sql(args.receipts):
                c.execute(statement)
            print(
                f"loaded 200,000 users and {args.receipts:,} receipts in "
                f"{time.perf_counter() - started:.0f} s"
            )
            now = datetime.now(UTC)
            since = months_before(now, 23)
            r = args.repeat
            timed(
                "by status (all time)",
                r,
                lambda: payments.by_status(db),
                plan(c, db, "payments_by_status", {"since": None}),
            )
            timed(
                "by month (24 months)",
                r,
                lambda: payments.by_month(db, 24),
                plan(c, db, "payments_by_month", {"since": since}),
            )
            timed(
                "by user (top 100)",
                r,
                lambda: payments.by_user(db, 100),
                plan(c, db, "payments_by_user", {"since": None, "limit": 100}),
            )
            timed("overview", r, lambda: payments.overview(db), "by status + 2 months")
            timed(
                "list, first page",
                r,
                lambda: payments.list_payments(db),
                plan(
                    c,
                    db,
                    "list_payments",
                    {
                        "status": None,
                        "since": None,
                        "until": None,
                        "pattern": None,
                        "after_created": None,
                        "after_id": None,
                        "limit": 201,
                    },
                ),
            )
        db.dispose()


if __name__ == "__main__":
    main()
