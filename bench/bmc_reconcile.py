"""Buy Me a Coffee's reconciliation at its target size (#18): 30 days of 2,000 payments, 20
pages of 100, from the loopback stand-in (tests/bmc_standin.py) answering each request after a
set latency; the receipts in a SQLite demo database, one for most payments.

    python -m bench.bmc_reconcile [--payments 2000] [--per-page 100] [--latency-ms 50]
                                  [--repeat 5]

Side by side in one run, wall time p50 / p95 in ms and the requests made:
- app: `ops.bmc.reconcile` whole (every page, extras, memberships, the receipts, the matching);
- bare sequential: the same pages fetched one after another with bare httpx (the floor of a
  client that follows next_page_url);
- bare concurrent: the same pages with bare httpx, four at a time (the floor of this client);
- `bmc show`: one payment, and how many requests it took.
Target (issue 18): reconcile < 3 s at 50 ms latency; `bmc show` in one request.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from adminui.bmc import BmcClient
from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.demo import build_demo
from adminui.ops import bmc
from bench.run import clock, p50, p95
from tests.bmc_standin import TOKEN, Standin, serving, supporter

TARGET_MS = 3000.0


def world(payments: int, now: datetime) -> list[dict]:
    span = timedelta(days=30) / payments
    return [
        supporter(700_000 + n, f"fan{n % 500}@example.com", now - n * span, coffees=1 + n % 3)
        for n in range(payments)
    ]


def receipts(db: Database, people: list[dict]) -> None:
    """A receipt for nine payments in ten, as the grants would have written them."""
    user = db.rows("recent_users", limit=1)[0]["id"]
    with db.write() as tx:
        for n, item in enumerate(people):
            if n % 10 == 9:
                continue
            tx.one(
                "insert_verified_receipt",
                user_id=user,
                amount_usd=Decimal(item["support_coffees"]) * 5,
                credits=10,
                reference=f"BMC-{item['support_id']}",
                notes=None,
                verified_by="bench",
                now=datetime.now(UTC).replace(microsecond=0),
            )


def bare(standin: Standin, pages: int, concurrent: bool) -> None:
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:

        def page(number: int) -> list:
            return http.get(f"{standin.url}/supporters", params={"page": number}).json()["data"]

        if concurrent:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(page, range(1, pages + 1)))
        else:
            for number in range(1, pages + 1):
                page(number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    people = world(args.payments, now)
    pages = -(-args.payments // args.per_page)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite"
        db = Database(Profile("bench", normalize_url(f"sqlite:///{path}", "bench")), create=True)
        build_demo(db, 200, now=now, orphans=False)
        receipts(db, people)
        standin = Standin(supporters=people, per_page=args.per_page)
        with serving(standin):
            standin.latency = args.latency_ms / 1000
            since = now - timedelta(days=30, minutes=1)
            sides = {
                "app: reconcile": lambda: _reconcile(db, standin, since),
                "bare httpx, sequential pages": lambda: bare(standin, pages, False),
                "bare httpx, 4 at a time": lambda: bare(standin, pages, True),
            }
            times: dict[str, list[float]] = {label: [] for label in sides}
            for _ in range(args.repeat):
                for label, call in sides.items():
                    times[label].append(clock(call))
            with BmcClient(TOKEN, standin.url) as client:
                client.payment("support", 700_000)
                show_requests = client.requests
            last = _reconcile(db, standin, since)
        db.dispose()
    print(
        f"{args.payments:,} payments, {pages} pages of {args.per_page}, "
        f"{args.latency_ms:g} ms latency; target reconcile < {TARGET_MS:.0f} ms"
    )
    print(f"{'side':32} {'p50 ms':>8} {'p95 ms':>8}")
    for label, measured in times.items():
        print(f"{label:32} {p50(measured):8.0f} {p95(measured):8.0f}")
    exceptions = {k: v for k, v in last.counts.items() if v}
    print(f"reconcile: {last.requests} requests; {len(last.matches):,} rows; {exceptions}")
    print(f"bmc show: {show_requests} request(s)")


def _reconcile(db: Database, standin: Standin, since: datetime) -> bmc.Reconciliation:
    with BmcClient(TOKEN, standin.url) as client:
        return bmc.reconcile(db, client, since)


if __name__ == "__main__":
    main()
