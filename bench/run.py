"""The benchmark harness: every `read` statement timed through the app and as raw SQL, its plan,
first paint against a bare Textual app, and the TUI's memory after paging through executions.

    python -m bench.run --url URL [--repeat 20] [--out bench/RESULTS.md]
    python -m bench.run --url URL --quick        # demo-sized data, well under a minute (CI)

For each case of bench/params.py, in one run and interleaved: p50 / p95 through the app (its ops
function, or db.read() + tx.rows) and through a plain psycopg connection running the same SQL
with the same parameters; their ratio is the app's overhead. Then EXPLAIN (ANALYZE, BUFFERS)
gives the plan's shape, with every sequential scan of a table over 100,000 rows flagged. All of
it runs twice: with the database's own indexes, then with adminui's recommended indexes
(queries/idea_expansion/schema/recommended_indexes.sql) created; those it created are dropped
again at the end.
Then first paint (bench/first_paint.py) and the TUI's RSS (bench/tui_memory.py, a process of
its own). The results are written as a Markdown table with each target and verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.packs import MAIN, Pack, load_pack
from adminui.queries import Registry
from adminui.schema import recommended_indexes
from bench import params

OVERHEAD_TARGET = 1.2
TIMEOUT_MS = 15_000  # the profile's statement_timeout_ms, as config.example.toml suggests
CASE_BUDGET_S = 4.0  # a slow statement gets fewer repeats (at least 5)
BIG_TABLE = 100_000
PAINT_TARGET = 2.0
RSS_TARGET_MB = 200.0
RSS_ROWS = 100_000
# The execution list's page by OFFSET instead of keyset, beside the keyset figures (#7).
OFFSET_PAGE = """
SELECT x.id, x.user_id, u.email, x.status, x.format_chosen, x.error_step, x.error_message,
       x.tokens_used, x.duration_seconds, x.started_at, x.completed_at
FROM (SELECT e.* FROM executions e ORDER BY e.started_at DESC, e.id DESC
      OFFSET %(offset)s LIMIT %(limit)s) x
LEFT JOIN users u ON u.id = x.user_id
ORDER BY x.started_at DESC, x.id DESC"""
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


@dataclass(frozen=True)
class Timing:
    """One case measured: milliseconds through the app and raw, and the plan."""

    case: params.Case
    app: list[float]
    raw: list[float]
    guarded: list[float]  # raw, inside BEGIN READ ONLY + set_config(statement_timeout) + COMMIT
    plan: str
    seq_scans: tuple[str, ...]  # big tables scanned sequentially
    server_ms: float  # EXPLAIN ANALYZE's execution time

    @property
    def ratio(self) -> float:
        return p50(self.app) / p50(self.raw)


def p50(times: list[float]) -> float:
    return statistics.median(times)


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def raw_sql(sql: str) -> str:
    """A vetted statement in psycopg's placeholders: `:name` -> `%(name)s`."""
    return _BIND.sub(r"%(\1)s", sql.replace("%", "%%"))


def clock(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def plan_of(conn: psycopg.Connection, sql: str, values: dict[str, Any], sizes: dict[str, int]):
    """(shape, big sequential scans, execution ms) from EXPLAIN (ANALYZE, BUFFERS)."""
    row = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", values).fetchone()
    top = row[0][0]
    nodes: list[str] = []
    flagged: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        table = node.get("Relation Name")
        if table:
            index = node.get("Index Name")
            nodes.append(f"{kind} on {table}" + (f" using {index}" if index else ""))
            if kind == "Seq Scan" and sizes.get(table, 0) > BIG_TABLE:
                flagged.append(f"{table} ({sizes[table]:,} rows)")
        elif kind in ("Sort", "Incremental Sort", "Aggregate", "Hash Join", "Nested Loop"):
            nodes.append(kind)
        for child in node.get("Plans", ()):
            walk(child)

    walk(top["Plan"])
    return "; ".join(dict.fromkeys(nodes)), tuple(dict.fromkeys(flagged)), top["Execution Time"]


@dataclass
class Raw:
    """The plain psycopg side: an autocommit connection (the floor: one round trip a statement)
    and one that runs each statement in a transaction with the app's guarantees, so the report
    tells their cost apart from the rest of the app's overhead."""

    conn: psycopg.Connection
    guarded: psycopg.Connection
    timeout_sql: str
    timeout_ms: str

    @classmethod
    def connect(cls, url: str, db: Database) -> Raw:
        guarded = psycopg.connect(url)
        guarded.read_only = True
        timeout = raw_sql(db.statement("transaction_settings").sql)
        return cls(psycopg.connect(url, autocommit=True), guarded, timeout, str(TIMEOUT_MS))

    def close(self) -> None:
        self.conn.close()
        self.guarded.close()


def measure(
    db: Database, raw: Raw, case: params.Case, repeat: int, sizes: dict[str, int]
) -> Timing:
    """Interleave the app, raw psycopg and raw psycopg with the app's transaction guarantees,
    `repeat` times each (fewer for slow statements, CASE_BUDGET_S each) after a warm-up."""
    sql = raw_sql(db.statement(case.statement).sql)

    def plain() -> None:
        raw.conn.execute(sql, case.params).fetchall()

    def guarded() -> None:
        with raw.guarded.transaction():
            raw.guarded.execute(
                raw.timeout_sql,
                {"schema": "public", "ms": raw.timeout_ms, "plans": "force_custom_plan"},
            )
            raw.guarded.execute(sql, case.params).fetchall()

    def app() -> None:
        case.app(db)

    sides = [app, plain, guarded]
    once = max(clock(side) for side in sides)
    times: dict[Callable[[], None], list[float]] = {side: [] for side in sides}
    for i in range(max(5, min(repeat, int(CASE_BUDGET_S * 1000 / (3 * once))))):
        for side in sides[i % 3 :] + sides[: i % 3]:  # each side goes first in turn
            times[side].append(clock(side))
    shape, flagged, server_ms = plan_of(raw.conn, sql, case.params, sizes)
    return Timing(case, times[app], times[plain], times[guarded], shape, flagged, server_ms)


def table_sizes(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT c.relname, c.reltuples::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = 'public'"
    ).fetchall()
    return dict(rows)


def create_recommended(
    conn: psycopg.Connection, pack: Pack | None = None, database: str = MAIN
) -> list[str]:
    """Create every recommended index of the pack (default: Idea Expansion) for the tables of
    one of its databases that the database lacks; the names of those created."""
    pack = pack or load_pack()
    existing = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes").fetchall()}
    created = []
    for advice in recommended_indexes(pack):
        if pack.database_of(advice.table) != database:
            continue
        name = re.search(r"CREATE INDEX (\w+)", advice.ddl)
        if name is None or name[1] in existing:
            continue
        conn.execute(advice.ddl)
        created.append(name[1])
    conn.execute("ANALYZE")
    return created


def offset_pages(conn: psycopg.Connection, runs: int, repeat: int) -> list[tuple[int, float]]:
    """The execution list's page at each depth by OFFSET (raw SQL), p50 ms."""
    figures = []
    for depth in (0, runs // 10, runs // 2):
        values = {"offset": depth, "limit": params.LIST_PAGE + 1}
        conn.execute(OFFSET_PAGE, values).fetchall()
        times = [
            clock(lambda v=values: conn.execute(OFFSET_PAGE, v).fetchall()) for _ in range(repeat)
        ]
        figures.append((depth, p50(times)))
    return figures


def rss(url: str, rows: int) -> dict[str, float]:
    """bench/tui_memory.py in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.tui_memory", "--url", url, "--rows", str(rows)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine(conn: psycopg.Connection) -> str:
    memory = next(
        int(line.split()[1]) // 1024 // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    version = conn.execute("SHOW server_version").fetchone()[0]
    settings = ", ".join(
        f"{name} {conn.execute(f'SHOW {name}').fetchone()[0]}"
        for name in ("shared_buffers", "work_mem")
    )
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores, {memory} GiB, PostgreSQL {version} ({settings}); load average "
        f"{load:.1f} at the start (anything else running on the machine slows the figures)"
    )


def first_paint_row(runs: int, say: Callable[[str], None]) -> str:
    """The report's first-paint row; a failure to measure is reported, not fatal to the run."""
    from bench.first_paint import compare  # tmux only when asked for

    try:
        bare, app, lines = compare(runs)
    except (subprocess.CalledProcessError, SystemExit) as error:
        detail = getattr(error, "stdout", None) or getattr(error, "stderr", None) or error
        say(f"first paint failed: {detail}")
        reason = " ".join(str(detail).split())[:200]  # one table row: no newlines
        return f"| first paint | not measured: {reason} | <= {PAINT_TARGET}x | — |"
    say(lines)
    return (
        f"| first paint: adminui demo {app:.3f} s, bare Textual DataTable {bare:.3f} s "
        f"(medians) | {app / bare:.2f}x | <= {PAINT_TARGET}x | "
        f"{verdict(app / bare, PAINT_TARGET)} |"
    )


def verdict(value: float, limit: float) -> str:
    return "pass" if value <= limit else f"**falls short** ({value / limit:.1f}x the target)"


def timings_table(timings: list[Timing]) -> list[str]:
    lines = [
        "| case | through the app | n | app p50 / p95 ms | raw p50 / p95 ms | raw in a guarded "
        f"tx p50 ms | app / raw (<= {OVERHEAD_TARGET}x) | target | verdict | plan (server ms) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in timings:
        target, judged = "—", "—"
        if t.case.target:
            limit, target = t.case.target
            judged = verdict(p95(t.app), limit)
        overhead = f"{t.ratio:.2f}x" + ("" if t.ratio <= OVERHEAD_TARGET else " **over**")
        flag = f" **seq scan: {', '.join(t.seq_scans)}**" if t.seq_scans else ""
        lines.append(
            f"| {t.case.label} | {t.case.via} | {len(t.app)} | "
            f"{p50(t.app):.2f} / {p95(t.app):.2f} | {p50(t.raw):.2f} / {p95(t.raw):.2f} | "
            f"{p50(t.guarded):.2f} | {overhead} | {target} | {judged} | "
            f"{t.plan} ({t.server_ms:.1f}){flag} |"
        )
    return lines


def run_all(
    db: Database, raw: Raw, repeat: int, say: Callable[[str], None]
) -> tuple[params.Sample, list[Timing]]:
    sizes = table_sizes(raw.conn)
    sample = params.sample(raw.conn)
    names = [n for n in db.registry.names() if db.statement(n).mode == "read"]
    timings = []
    for case in params.cases(sample, names):
        timing = measure(db, raw, case, repeat, sizes)
        say(
            f"  {case.label:42} app {p50(timing.app):8.2f} ms  raw {p50(timing.raw):8.2f} ms  "
            f"guarded {p50(timing.guarded):8.2f} ms  {timing.ratio:5.2f}x  {timing.plan}"
        )
        timings.append(timing)
    return sample, timings


def main(argv: list[str] | None = None, say: Callable[[str], None] = print) -> list[str]:
    """Run everything and write the report; its lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL database (bench/make_scale.py)")
    parser.add_argument("--quick", action="store_true", help="few repeats, few rows, 2 paints")
    parser.add_argument("--repeat", type=int, help="timings per case and side (default 20)")
    parser.add_argument("--out", type=Path, help="the report (default: bench/RESULTS.md)")
    parser.add_argument("--no-paint", action="store_true", help="skip first paint (no tmux)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 20)
    out = args.out or Path(__file__).parent / "RESULTS.md"
    url = normalize_url(args.url, "--url")
    profile = Profile("bench", url.set(password=None), statement_timeout_ms=TIMEOUT_MS)
    password = url.password
    db = Database(profile, str(password) if password else None, Registry.load())
    raw_url = url.set(drivername="postgresql")
    raw = Raw.connect(raw_url.render_as_string(hide_password=False), db)
    conn = raw.conn
    report = [
        f"# Benchmark results{' (--quick)' if args.quick else ''}",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine(conn)}; "
        f"`python -m bench.run {'--quick ' if args.quick else ''}--repeat {repeat}`.",
        "",
        "Rows: "
        + ", ".join(f"{t} {n:,}" for t, n in sorted(table_sizes(conn).items()) if n > 0)
        + ".",
    ]
    created: list[str] = []
    # A background run ignores SIGINT: SIGTERM ends it too, dropping the indexes it created.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        say("with the database's own indexes:")
        sample, without = run_all(db, raw, repeat, say)
        report += ["", "## Every read statement, the database's own indexes", ""]
        report += timings_table(without)
        offsets = offset_pages(conn, sample.runs, max(3, repeat // 4))
        created += create_recommended(conn)
        say(f"with the recommended indexes ({', '.join(created) or 'all there already'}):")
        _, with_indexes = run_all(db, raw, repeat, say)
        report += ["", "## Every read statement, with the recommended indexes", ""]
        report += timings_table(with_indexes)
        report += ["", "## Execution pages: keyset (the app) against OFFSET", ""]
        report += ["| depth | keyset p50 ms (recommended indexes) | OFFSET p50 ms (own indexes) |"]
        report += ["|---|---|---|"]
        keyset = {t.case.label: p50(t.app) for t in with_indexes}
        for (depth, offset_ms), label in zip(
            offsets, ("first page", "page at 10% depth", "page at 50% depth"), strict=True
        ):
            report.append(
                f"| {depth:,} | {keyset[f'list_executions: {label}']:.1f} | {offset_ms:.1f} |"
            )
        rows = 2_000 if args.quick else RSS_ROWS
        memory = rss(args.url, rows)
        say(f"TUI memory: {memory}")
        report += [
            "",
            "## The TUI",
            "",
            "| figure | measured | target | verdict |",
            "|---|---|---|---|",
        ]
        report.append(
            f"| RSS after paging through {memory['rows']:,.0f} executions (peak "
            f"{memory['peak_mib']:.0f} MiB, {memory['seconds']:.0f} s) | "
            f"{memory['rss_mib']:.0f} MiB | < {RSS_TARGET_MB:.0f} MB after {RSS_ROWS:,} rows | "
            f"{verdict(memory['rss_mib'], RSS_TARGET_MB)} |"
        )
        if not args.no_paint:
            report.append(first_paint_row(2 if args.quick else 10, say))
    finally:
        for name in created:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        raw.close()
        db.dispose()
        signal.signal(signal.SIGTERM, previous)
    out.write_text("\n".join(report) + "\n", encoding="utf-8")
    say(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
