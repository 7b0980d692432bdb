"""OmniChat (seed 002, Cloudflare D1) at production size, on its SQLite file: the lookup, one
user's detail, usage pages at several depths, the orphan scan, ledger health and the usage and
money reports, through adminui's ops and as the same SQL with the same values in bare sqlite3,
interleaved in one run; with the schema's own indexes (D1's migrations make none but the keys),
then with the indexes of its relations' columns that adminui's health view recommends
(`recommended_indexes`) and an index on api_usage's instant (TRIED, an experiment).

    python -m bench.d1_scale [--users 200000] [--messages 3000000] [--api-usage 1500000]
                             [--path FILE] [--repeat 10]

Builds the file from the pack's demo (`adminui demo`'s SQL) and pads messages and api_usage with
copies of their rows under new ids up to the sizes asked (kept at --path and reused when its
counts match). Targets (issue 16): lookup p95 < 50 ms, a ledger or usage page < 50 ms at any
depth, the orphan scan < 10 s, ledger health < 5 s; app / raw <= 1.2.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from adminui.config import Profile
from adminui.db import Database, sqlite_values
from adminui.ops import orphans, reports, users
from adminui.ops.values import like_pattern
from adminui.pack_demo import create_schema, fill
from adminui.packs import MAIN, pack_named
from adminui.schema import recommended_indexes
from bench.fltr_lookup import measure

OMNICHAT = pack_named("omnichat")
# The instant a time names (users.sql's rule), as an index on it must spell it for SQLite to use
# it: what would let the usage list page by index instead of sorting api_usage for each page.
INSTANT = (
    "COALESCE(COALESCE(CASE WHEN created_at NOT GLOB '*[^0-9]*' AND length(created_at) BETWEEN "
    "9 AND 13 THEN julianday(CASE WHEN length(created_at) >= 12 THEN created_at / 1000.0 ELSE "
    "created_at + 0 END, 'unixepoch') END, CASE WHEN created_at GLOB '[0-9][0-9][0-9][0-9]-*' "
    "THEN julianday(created_at) END), -1)"
)
TRIED = (f"CREATE INDEX IF NOT EXISTS api_usage_at ON api_usage ({INSTANT})",)  # read backwards
Case = tuple[str, Callable[[], object], Callable[[], object]]


def build(path: Path, users_wanted: int, padded: dict[str, int]) -> None:
    """The demo at `users_wanted`, then each table of `padded` topped up with copies of its
    own rows (ids suffixed), so its size is the one asked and its values stay the demo's."""
    started = time.perf_counter()
    if path.exists():
        with sqlite3.connect(path) as conn:
            have = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in padded}
            (people,) = conn.execute("SELECT count(*) FROM users").fetchone()
        if have == padded and people >= users_wanted:
            print(f"reusing {path}: {people:,} users, {have}")
            return
        path.unlink()
    db = Database(
        Profile("bench", make_url(f"sqlite:///{path}")),
        pack=OMNICHAT,
        create=True,
        enforce_foreign_keys=False,
    )
    create_schema({MAIN: db})
    fill({MAIN: db}, users_wanted)
    db.dispose()
    with sqlite3.connect(path) as conn:
        for table, wanted in padded.items():
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            copied = ", ".join(f"{c} || '~' || k.k" if c == "id" else c for c in columns)
            quoted = ", ".join(f'"{c}"' for c in columns)
            k = 0
            while (have := conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) < wanted:
                k += 1
                conn.execute(
                    f"INSERT INTO {table} ({quoted}) SELECT {copied} FROM {table}, "
                    f"(SELECT {k} AS k) k WHERE {table}.id NOT LIKE '%~%' LIMIT {wanted - have}"
                )
        conn.commit()
        conn.execute("ANALYZE")
    print(f"built {path} in {time.perf_counter() - started:.0f} s")


def raw(conn: sqlite3.Connection, db: Database, name: str, **values: Any) -> Callable[[], object]:
    """A statement as bare sqlite3 runs it: its SQL, the values the app binds."""
    statement = db.statement(name)
    bound = sqlite_values({k: values[k] for k in statement.params})
    sql = statement.sql.replace("\\:", ":")
    return lambda: conn.execute(sql, bound).fetchall()


def cases(db: Database, conn: sqlite3.Connection, size: int) -> list[Case]:
    busy = f"user_2N{size // 2 + 1:06d}"
    (email,) = conn.execute("SELECT email FROM users WHERE id = ?", (busy,)).fetchone()
    searches = {
        "whole email": email,
        "whole id": busy,
        "common name (capped)": "radia",
        "Stripe customer": conn.execute(
            "SELECT stripeCustomerId FROM users WHERE stripeCustomerId IS NOT NULL "
            "LIMIT 1 OFFSET ?",
            (size // 8,),
        ).fetchone()[0],
        "no match": "zzzz-nothing",
    }
    found: list[Case] = []
    for label, text in searches.items():
        values = {
            "pattern": like_pattern(text, folded=False),
            "text": text,
            "id_low": None,
            "id_high": None,
            "limit": users.DEFAULT_LIMIT + 1,
        }
        found.append(
            (
                f"find_users, {label}",
                lambda t=text: users.find_users(db, t),
                raw(conn, db, "find_users", **values),
            )
        )
    now = datetime.now(UTC)
    detail = [
        raw(conn, db, read.statement, user_id=busy, limit=read.limit, now=now)
        for read in OMNICHAT.lookup.reads
    ]
    found.append(
        (
            "get_user_detail",
            lambda: users.get_user_detail(db, busy, now=now),
            lambda: [run() for run in detail],
        )
    )
    listing = reports.get_report(db, "usage", "recent")
    none = dict.fromkeys([*reports.FILTERS, *reports.PAGING])
    page = reports.LIMIT + 1  # the app reads one row past a page, to know whether more match
    (rows,) = conn.execute("SELECT count(*) FROM api_usage").fetchone()
    for depth in (0, 0.5, 0.9):
        after = None
        if depth:  # the cursor a person paging that far down holds: the row at that depth
            last = raw(conn, db, "usage_recent", **none | {"limit": int(rows * depth)})()[-1]
            after = (last["at"], last["row"])
        values = none | {"after_at": after and after[0], "after_row": after and after[1]}
        found.append(
            (
                f"usage page, {depth:.0%} deep",
                lambda a=after: reports.read(db, listing, after=a),
                raw(conn, db, "usage_recent", **values | {"limit": page}),
            )
        )
    found.append(
        (
            "usage page, one user",
            lambda: reports.read(db, listing, user=busy),
            raw(conn, db, "usage_recent", **none | {"user_id": busy, "limit": page}),
        )
    )
    for job in ("health", "usage", "money"):
        for report in OMNICHAT.reports_of(job):
            if report.name == "recent":
                continue
            values = none | {"limit": page, "now": now}
            found.append(
                (
                    f"{job} {report.name}",
                    lambda r=report: reports.read(db, r, now=now),
                    raw(conn, db, report.statement, **values),
                )
            )
    scan_sql = [db.statement(check.statement("count")).sql for check in orphans.checks(OMNICHAT)]
    found.append(
        (
            "orphan scan (every check)",
            lambda: orphans.scan(db, full=True),
            lambda: [conn.execute(sql).fetchall() for sql in scan_sql],
        )
    )
    return found


def run(path: Path, size: int, messages: int, usage: int, repeat: int) -> None:
    build(path, size, {"messages": messages, "api_usage": usage})
    db = Database(Profile("bench", make_url(f"sqlite:///{path}")), pack=OMNICHAT)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    measured = cases(db, conn, size)
    for indexes in (
        "the schema's own indexes (the keys only)",
        "the recommended indexes and TRIED",
    ):
        if indexes.startswith("the recommended"):
            for advice in recommended_indexes(OMNICHAT):  # PostgreSQL's spelling, SQLite's here
                sqlite_ddl = advice.ddl.replace(" USING btree", "")
                conn.execute(sqlite_ddl.replace("INDEX", "INDEX IF NOT EXISTS", 1))
            for create in TRIED:
                conn.execute(create)
            conn.execute("ANALYZE")
        print(f"\nwith {indexes}")
        print(f"{'case':34} {'app p50':>8} {'p95':>7} {'raw p50':>8} {'p95':>7} {'app/raw':>8}")
        for label, app, bare in measured:
            measure(label, app, bare, repeat)
    conn.close()
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=3_000_000)
    parser.add_argument("--api-usage", type=int, default=1_500_000)
    parser.add_argument("--path", type=Path, default=Path("/tmp/adminui-bench-omnichat.sqlite"))
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    run(args.path, args.users, args.messages, args.api_usage, args.repeat)


if __name__ == "__main__":
    main()
