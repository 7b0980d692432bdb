"""fltr's user lookup and ledger at production size: the searches support types, one user's
whole detail (both databases) and ledger pages, through adminui's ops and as the same SQL in
bare psycopg, interleaved in one run.

    python -m bench.fltr_lookup [--users 200000] [--transactions 1800000] [--repeat 20]

Starts a throwaway cluster, fills fltr_auth and fltr from the pack's demo (bench/fltr_across.py's
loader), pads the ledger with usage rows up to `--transactions`, and measures with the schema's
own indexes, then with adminui's recommended ones (created); then ledger pages at several
depths. Targets (issue 15): lookup p95 < 50 ms; a ledger page < 50 ms at any depth; app / raw
<= 1.2 for statements over 5 ms.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC
from typing import Any

import psycopg
from sqlalchemy import make_url

from adminui.config import Profile
from adminui.db import Database
from adminui.ops import ledger, users
from adminui.ops.values import like_pattern
from adminui.packs import DATA, MAIN
from bench.fltr_across import FLTR, _plain, load
from bench.make_scale import CLUSTER
from bench.run import clock, create_recommended, p50, p95, raw_sql
from tests.pg_cluster import start_cluster

PAD = """
INSERT INTO credit_transactions (user_id, amount, type, operation, resource_id, created_at)
SELECT 'usr_' || CAST(g %% %(users)s + 1 AS text), -1, 'usage', 'mcp_query', 'doc_' || g,
       now() - g * interval '1 minute'
FROM generate_series(1, %(rows)s) g
"""


def pad_ledger(url: str, users: int, total: int) -> int:
    """Usage rows spread over every user, until the ledger holds `total` rows."""
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        (now,) = conn.execute("SELECT count(*) FROM credit_transactions").fetchone()
        if total > now:
            conn.execute(PAD, {"users": users, "rows": total - now})
        conn.execute("VACUUM ANALYZE credit_transactions")
        (now,) = conn.execute("SELECT count(*) FROM credit_transactions").fetchone()
    return now


def raw_search(conn: psycopg.Connection, db: Database, text: str) -> Callable[[], object]:
    """find_users as bare psycopg runs it: the same SQL, the same values."""
    sql = raw_sql(db.statement("find_users").sql)
    values = {"pattern": like_pattern(text), "text": text, "limit": users.DEFAULT_LIMIT + 1}
    return lambda: conn.execute(sql, values).fetchall()


def raw_detail(
    conns: dict[str, psycopg.Connection], db: Database, user_id: str
) -> Callable[[], object]:
    """Every read of the detail, each statement on its database, as bare psycopg runs them."""
    reads = [
        (conns[read.database], raw_sql(db.statement(read.statement).sql), read.limit)
        for read in FLTR.lookup.reads
    ]

    def run() -> None:
        for conn, sql, limit in reads:
            conn.execute(sql, {"user_id": user_id, "limit": limit}).fetchall()

    return run


def ledger_cases(
    conn: psycopg.Connection, db: Database, rows: int, user_id: str
) -> list[tuple[str, Callable[[], object], Callable[[], object]]]:
    """A ledger page (100 rows) at the top, half-way and 90% down, and one user's first page."""
    sql = raw_sql(db.statement("ledger_page").sql)
    none = dict.fromkeys(("type", "operation", "user_id", "since", "until", "after_at", "after_id"))
    cases = []
    for depth in (0, 0.5, 0.9):
        after = None
        if depth:
            at, key = conn.execute(
                "SELECT created_at, id FROM credit_transactions "
                "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                (int(rows * depth),),
            ).fetchone()
            after = (at.replace(tzinfo=UTC), key)
        values = none | {"after_at": after[0] if after else None, "after_id": after and after[1]}
        cases.append(
            (
                f"ledger page, {depth:.0%} deep",
                lambda a=after: ledger.page(db, after=a),
                lambda v=values: conn.execute(sql, v | {"limit": ledger.PAGE}).fetchall(),
            )
        )
    mine = none | {"user_id": user_id, "limit": ledger.PAGE}
    cases.append(
        (
            "ledger page, one user",
            lambda: ledger.page(db, user=user_id),
            lambda: conn.execute(sql, mine).fetchall(),
        )
    )
    return cases


def run(server: Any, size: int, transactions: int, repeat: int) -> None:
    urls = load(server, size, "lookup")
    print(f"ledger: {pad_ledger(urls[MAIN], size, transactions):,} credit_transactions")
    main, data = (make_url(urls[role]) for role in (MAIN, DATA))
    profile = Profile(name="bench", url=main.set(password=None), data_url=data.set(password=None))
    db = Database(profile, main.password, pack=FLTR)
    # Never prepared: each statement planned for its values, as the app's plan_cache_mode asks
    # (a generic plan of `:x IS NULL OR ...` can't drop the filters that are not given).
    conns = {
        role: psycopg.connect(_plain(url), autocommit=True, prepare_threshold=None)
        for role, url in urls.items()
    }
    busy = f"usr_{size // 2 + 1}"
    searches = {
        "whole email": f"radia.{size // 2 + 7}@example.com",
        "whole id": busy,
        "common name (capped)": "lovelace",
        "team name": "team 12",
        "API key": "ak_usr_1230",
        "no match": "zzzz-nothing",
    }
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            f"find_users, {label}",
            lambda t=text: users.find_users(db, t),
            raw_search(conns[MAIN], db, text),
        )
        for label, text in searches.items()
    ]
    detail = (lambda: users.get_user_detail(db, busy), raw_detail(conns, db, busy))
    cases.append(("get_user_detail (both databases)", *detail))
    cases += ledger_cases(conns[MAIN], db, transactions, busy)
    for indexes in ("the schema's own indexes", "adminui's recommended indexes"):
        if indexes.startswith("adminui"):
            for role, conn in conns.items():
                create_recommended(conn, FLTR, role)
        print(f"\nwith {indexes}")
        print(f"{'case':34} {'app p50':>8} {'p95':>7} {'raw p50':>8} {'p95':>7} {'app/raw':>8}")
        for label, app, raw in cases:
            measure(label, app, raw, repeat)
    for conn in conns.values():
        conn.close()
    db.dispose()


def measure(label: str, app: Callable[[], object], raw: Callable[[], object], repeat: int) -> None:
    """p50 / p95 of both sides, interleaved (the machine's noise falls on both), and their ratio."""
    app(), raw()  # warm
    app_times, raw_times = [], []
    for _ in range(repeat):
        app_times.append(clock(app))
        raw_times.append(clock(raw))
    print(
        f"{label:34} {p50(app_times):8.2f} {p95(app_times):7.2f} {p50(raw_times):8.2f} "
        f"{p95(raw_times):7.2f} {p50(app_times) / p50(raw_times):7.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--transactions", type=int, default=1_800_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with start_cluster(**CLUSTER) as server:
        run(server, args.users, args.transactions, args.repeat)


if __name__ == "__main__":
    main()
