"""OmniChat on D1 far away (issue 20): every job's reads over the D1 HTTP API, through the API's
stand-in (tests/d1_standin.py, serving the pack's demo file) behind a loopback proxy that
delays each direction by D ms (bench/delay_proxy.py). For each action: its wall time and the
HTTP requests it made, beside a bare httpx client posting one statement on a kept-alive
connection (one round trip, the least any request costs).

    python -m bench.d1_latency [--users 2000] [--delays 0,50] [--repeat 5]

Targets (issue 20, at 50 ms each way): a lookup or any screen's refresh <= 2 requests; a grant
<= 3 (preview, write batch).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from adminui import cli
from adminui.config import Profile, normalize_url
from adminui.d1_db import D1Database
from adminui.ops import ledger_credits, orphans, reports, users
from adminui.packs import pack_named
from bench.d1_scale import build
from bench.delay_proxy import DelayProxy
from tests.d1_standin import ACCOUNT, DATABASE, TOKEN, D1StandIn

OMNICHAT = pack_named("omnichat")
URL = f"d1://{ACCOUNT}/{DATABASE}"
Table = dict[str, dict[float, tuple[float, int]]]  # action -> delay -> (median s, requests)


def granted(db: D1Database, user: str) -> object:
    """A grant as the screen makes one (a new payment each): its preview, then the write
    guarded by it."""
    grant = ledger_credits.parse_ledger_grant(5, f"BMC-{uuid.uuid4()}", max_credits=1000)
    preview = ledger_credits.preview_grant(db, user, grant)
    return ledger_credits.grant(db, user, grant, "bench", preview=preview)


def actions(db: D1Database, user: str, email: str) -> dict[str, Callable[[], object]]:
    """What an operator does, each as the screen or command does it."""
    grant = ledger_credits.parse_ledger_grant(5, "BMC-BENCH-0", max_credits=1000)
    money = OMNICHAT.reports_of("money")[0]
    return {
        "a lookup (search keystroke)": lambda: users.find_users(db, email[:6]),
        "a user's screen (refresh)": lambda: users.get_user_detail(db, user),
        "users show EMAIL (resolve + screen)": lambda: users.get_user_detail(
            db, users.resolve_user(db, email)
        ),
        "grant preview": lambda: ledger_credits.preview_grant(db, user, grant),
        "grant (preview + write batch)": partial(granted, db, user),
        "orphan scan (every check counted)": lambda: orphans.scan(db),
        f"money: {money.title} (refresh)": lambda: reports.read(db, money),
    }


def cli_run(argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["--url", URL, "--product", "omnichat", *argv])
    if code != 0:
        raise SystemExit(f"bench: adminui {' '.join(argv)} exited {code}")


def measure(call: Callable[[], object], standin: D1StandIn, repeat: int) -> tuple[float, int]:
    """Median wall time (s) and the requests of one call."""
    times, requests = [], 0
    for _ in range(repeat):
        sent = standin.requests
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
        requests = standin.requests - sent
    return statistics.median(times), requests


def run(users_wanted: int, delays: list[float], repeat: int, folder: Path) -> Table:
    """Every action at each delay, against the demo built in `folder`."""
    path = folder / "omnichat.sqlite"
    build(path, users_wanted, {})
    os.environ.setdefault("ADMINUI_AUDIT_LOG", str(folder / "audit.jsonl"))
    table: Table = {}
    with D1StandIn() as standin:
        standin.serve(path)
        port = int(standin.base.split(":")[2].split("/")[0])
        for delay in delays:
            with DelayProxy("127.0.0.1", port, delay) as proxy:
                base = f"http://127.0.0.1:{proxy.port}/client/v4"
                os.environ.update(ADMINUI_D1_API=base, ADMINUI_PASSWORD=TOKEN)
                profile = Profile("bench", normalize_url(URL, "bench"), d1_api=base)
                db = D1Database(profile, TOKEN, pack=OMNICHAT)
                user = users.recent_users(db, 1).rows[0].id
                email = users.get_user_detail(db, user)["email"]
                query = f"{base}/accounts/{ACCOUNT}/d1/database/{DATABASE}/query"
                with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as bare:
                    bare.post(query, json={"sql": "SELECT 1"})  # connected, as the app is
                    one = partial(bare.post, query, json={"sql": "SELECT 1"})
                    table.setdefault("bare httpx: one request", {})[delay] = measure(
                        one, standin, repeat
                    )
                calls = {
                    **actions(db, user, email),
                    "CLI: users show EMAIL (in-process)": partial(
                        cli_run, ["users", "show", email]
                    ),
                }
                for label, call in calls.items():
                    table.setdefault(label, {})[delay] = measure(call, standin, repeat)
                db.dispose()
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--delays", default="0,50")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    with tempfile.TemporaryDirectory(prefix="adminui-d1-bench-") as folder:
        table = run(args.users, delays, args.repeat, Path(folder))
    print(f"OmniChat, {args.users:,} users; medians of {args.repeat}; D: delay each way, ms")
    print(f"{'':44}" + "".join(f"{f'D={d:g}: s':>12}" for d in delays) + f"{'requests':>10}")
    for label, by_delay in table.items():
        times = "".join(f"{by_delay[d][0]:12.3f}" for d in delays)
        print(f"{label[:44]:44}{times}{by_delay[delays[-1]][1]:10d}")


if __name__ == "__main__":
    main()
