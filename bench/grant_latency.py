"""Grant latency on PostgreSQL: `ops.credits.grant_credits` against the same statements run as
bare SQL through psycopg, in one run.

    python -m bench.grant_latency [--users 2000] [--grants 200]

Starts a throwaway cluster, loads the demo data, then makes --grants grants each way, every one
with a new reference (so every duplicate check scans payment_receipts, as in production).
Issue 3: a grant is one round of a few statements; this shows its latency next to bare SQL's.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from dataclasses import replace
from decimal import Decimal

import psycopg

from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.demo import build_demo
from adminui.ops import credits
from tests.pg_cluster import PG_PASSWORD, start_cluster

# The statements grant_credits runs, as a person would type them against the database.
BARE = [
    "SELECT pg_catalog.pg_advisory_xact_lock("
    "pg_catalog.hashtextextended(lower(trim(%(ref)s)), CAST(0 AS bigint)))",
    "SELECT id FROM payment_receipts WHERE lower(trim(bmc_reference)) = lower(trim(%(ref)s))",
    "INSERT INTO usage_tracking (user_id) VALUES (%(user)s) ON CONFLICT (user_id) DO NOTHING",
    "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = %(user)s FOR UPDATE",
    "INSERT INTO payment_receipts (user_id, amount_usd, credits_purchased, bmc_reference, "
    "verified_by, status, verified_at) VALUES (%(user)s, 5.00, 5, %(ref)s, 'bench', 'verified', "
    "now()) RETURNING id",
    "UPDATE usage_tracking SET paid_credits_remaining = paid_credits_remaining + 5 "
    "WHERE user_id = %(user)s",
    "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = %(user)s",
]


def summary(label: str, times: list[float]) -> float:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18]
    print(f"  {label:28} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--grants", type=int, default=200)
    args = parser.parse_args()
    with start_cluster() as server:
        server.psql("CREATE DATABASE bench")
        profile = Profile("bench", normalize_url(server.url("bench", password=False), "bench"))
        db = Database(profile, PG_PASSWORD)
        build_demo(db, args.users, orphans=False)
        user_id = str(db.rows("recent_users", limit=1)[0]["id"])
        grant = credits.parse_grant(5, Decimal("5.00"), "x", max_credits=10_000)
        app_times, bare_times = [], []
        with psycopg.connect(server.url("bench").replace("+psycopg", "")) as conn:
            for n in range(args.grants):
                reference = f"BENCH-{uuid.uuid4().hex[:12]}"
                start = time.perf_counter()
                credits.grant_credits(db, user_id, replace(grant, reference=reference), "bench")
                app_times.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                with conn.transaction():
                    for sql in BARE:
                        conn.execute(sql, {"ref": f"{reference}-bare-{n}".lower(), "user": user_id})
                bare_times.append((time.perf_counter() - start) * 1000)
        print(
            f"{args.grants} grants, {args.users:,} demo users, PostgreSQL "
            f"{server.psql('SHOW server_version').strip()}:"
        )
        app = summary("adminui grant_credits", app_times)
        bare = summary("bare SQL (same statements)", bare_times)
        print(
            f"  app / bare (p50): {app / bare:.2f}x  (the app also writes the audit line, "
            "fsynced, and reads the receipt back)"
        )
        db.dispose()


if __name__ == "__main__":
    main()
