"""User search latency on PostgreSQL at scale: what each keystroke costs, and which index it uses.

    python -m bench.user_search [--users 200000] [--repeat 15] [--trigram] [--final-only]

Starts a throwaway cluster (like the tests), loads the reference schema with N users (their
usage_tracking rows made by the schema's trigger) and 2 receipts per user, generated server-side.
Then times `ops.users.find_users` for the keystrokes of typical searches (p50 / p95 over
--repeat runs each) and prints each search's plan (EXPLAIN ANALYZE, BUFFERS) in short.
`--trigram` also creates the pg_trgm indexes the README recommends and measures again.

Target (issue 2): p95 under 50 ms per keystroke query at 200,000 users.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import psycopg

from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.ops import users
from adminui.schema import schema_sql
from tests.pg_cluster import PG_PASSWORD, PgServer, start_cluster

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Dennis",
    "Margaret",
    "Edsger",
    "Donald",
    "Frances",
    "Radia",
    "John",
    "Katherine",
    "Tim",
    "Guido",
    "Yukihiro",
    "Anders",
    "Bjarne",
    "Sophie",
    "Hedy",
    "Annie",
    "Jean",
    "Lynn",
    "Mary",
    "Niklaus",
    "Leslie",
    "Shafi",
    "Sanjay",
    "Priya",
    "Mei",
    "Kenji",
    "Olga",
    "Lars",
    "Ines",
    "Tomas",
    "Zoe",
    "Amara",
    "Kwame",
    "Chen",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Thompson",
    "Ritchie",
    "Hamilton",
    "Dijkstra",
    "Knuth",
    "Allen",
    "Perlman",
    "Backus",
    "Johnson",
    "Berners-Lee",
    "Rossum",
    "Matsumoto",
    "Hejlsberg",
    "Stroustrup",
    "Wilson",
    "Lamarr",
    "Easley",
    "Sammet",
    "Conway",
    "Shaw",
    "Wirth",
    "Lamport",
    "Goldwasser",
    "Ghemawat",
    "Patel",
    "Wang",
    "Sato",
    "Ivanova",
    "Nilsson",
    "Garcia",
    "Munoz",
    "Okafor",
    "Mensah",
    "Li",
]


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def load_sql(n: int) -> str:
    """Server-side generation of n users (names from the lists above) and 2n receipts."""
    return f"""
INSERT INTO users (email, name, timezone, created_at)
SELECT lower(f || '.' || l || g) || '@' ||
         (ARRAY['gmail.com','outlook.com','proton.me','hey.com','example.org'])[1 + g % 5],
       f || ' ' || l, 'UTC', now() - make_interval(secs => g * 97)
FROM generate_series(1, {n}) g,
     LATERAL (SELECT ({_array(FIRST)})[1 + g % {len(FIRST)}] AS f) a,
     LATERAL (SELECT ({_array(LAST)})[1 + (g / {len(FIRST)}) % {len(LAST)}] AS l) b;
INSERT INTO payment_receipts (user_id, amount_usd, credits_purchased, bmc_reference, status,
                              verified_by, created_at, verified_at)
SELECT u.id, 5.00, 5, 'BMC-' || (100000 + g), 'verified', 'bench',
       now() - make_interval(days => g % 700), now() - make_interval(days => g % 700)
FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM users) u
JOIN generate_series(1, 2 * {n}) g ON u.rn = 1 + g % {n};
VACUUM ANALYZE;
"""


TRIGRAM = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS receipts_reference_trgm
  ON payment_receipts USING gin (lower(bmc_reference) gin_trgm_ops);
ANALYZE;
"""


def searches(conn: psycopg.Connection) -> dict[str, list[str]]:
    """What an operator types, keystroke by keystroke (from the minimum length on)."""
    some_id = str(conn.execute("SELECT id FROM users ORDER BY email LIMIT 1").fetchone()[0])
    email = conn.execute("SELECT email FROM users ORDER BY id LIMIT 1").fetchone()[0]
    reference = conn.execute("SELECT bmc_reference FROM payment_receipts LIMIT 1").fetchone()[0]

    def typed(text: str) -> list[str]:
        return [text[:n] for n in range(users.MIN_SEARCH, len(text) + 1)]

    return {
        "name 'lovelace'": typed("lovelace"),
        "email": typed(email.split("@")[0]),
        "id prefix": typed(some_id[:13]),
        "full id": [some_id],
        "reference": typed(reference),
        "no match": typed("zzqx-none"),
    }


def plan_summary(conn: psycopg.Connection, db: Database, text: str) -> str:
    """The plan's scan nodes for one search, e.g. 'Seq Scan on users; Index Scan ...'."""
    statement = db.statement("find_users")
    sql = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", statement.sql)
    low, high = users.id_prefix_range(text)
    params = {"pattern": users.like_pattern(text), "id_low": low, "id_high": high, "limit": 101}
    rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
    lines = [r[0].strip().lstrip("-> ") for r in rows]
    scans = [re.sub(r"\s+\(cost.*", "", line) for line in lines if "Scan" in line]
    total = next((line for line in lines if line.startswith("Execution Time")), "")
    return f"{'; '.join(scans)} [{total}]"


def measure(
    db: Database, conn: psycopg.Connection, repeat: int, final_only: bool = False
) -> list[float]:
    everything: list[float] = []
    for label, typed in searches(conn).items():
        keystrokes = typed[-1:] if final_only else typed
        times = []
        for text in keystrokes:
            users.find_users(db, text)  # warm
            for _ in range(repeat):
                start = time.perf_counter()
                users.find_users(db, text)
                times.append((time.perf_counter() - start) * 1000)
        everything += times
        p95 = statistics.quantiles(times, n=20)[18]
        print(
            f"  {label:16} {len(keystrokes):2} keystrokes  p50 {statistics.median(times):7.1f} ms"
            f"  p95 {p95:7.1f} ms   plan({keystrokes[-1]!r}): "
            f"{plan_summary(conn, db, keystrokes[-1])}"
        )
    p95 = statistics.quantiles(everything, n=20)[18]
    print(
        f"  all keystrokes: p50 {statistics.median(everything):.1f} ms, p95 {p95:.1f} ms "
        f"(target p95 < 50 ms: {'meets' if p95 < 50 else 'misses'})"
    )
    return everything


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--trigram", action="store_true")
    parser.add_argument(
        "--final-only",
        action="store_true",
        help="time only each search's whole text (for slow, large runs)",
    )
    args = parser.parse_args()
    with start_cluster(shared_buffers="512MB", work_mem="16MB") as server:
        run(server, args)


def run(server: PgServer, args: argparse.Namespace) -> None:
    server.psql("CREATE DATABASE bench")
    profile = Profile("bench", normalize_url(server.url("bench", password=False), "bench"))
    db = Database(profile, PG_PASSWORD)
    db.run_script(schema_sql("postgresql"))
    started = time.perf_counter()
    raw_url = server.url("bench").replace("+psycopg", "")
    with psycopg.connect(raw_url, autocommit=True) as conn:
        for statement in load_sql(args.users).split(";\n"):
            if statement.strip():
                conn.execute(statement)
        print(
            f"loaded {args.users:,} users and {2 * args.users:,} receipts in "
            f"{time.perf_counter() - started:.0f} s; PostgreSQL "
            f"{conn.execute('SHOW server_version').fetchone()[0]}"
        )
        print("seed indexes only (btree on users.email, the primary keys):")
        measure(db, conn, args.repeat, args.final_only)
        if args.trigram:
            conn.execute(TRIGRAM)
            print("with the recommended pg_trgm GIN indexes:")
            measure(db, conn, args.repeat, args.final_only)
    db.dispose()


if __name__ == "__main__":
    main()
