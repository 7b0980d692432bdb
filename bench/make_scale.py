"""A production-sized PostgreSQL database in the reference schema, loaded with COPY.

    python -m bench.make_scale --url URL [--users 200000] [--anchor 2026-11-22]
    python -m bench.make_scale [--users 200000]     # starts a throwaway cluster and keeps it

At 200,000 users: 200,000 usage_tracking rows (a few users without one), 500,000 ideas,
2,000,000 executions (about 8% failed, 2% partial, some running and a few stuck), 1,000,000
outputs, 400,000 payment receipts over 24 months (88% verified, 7% pending, 5% refunded; some
references reused), credentials and blog posts. Every count scales with --users.

Deterministic: each id is a hash of its table and row number and every other value comes from a
seeded random generator, so the same --users and --anchor give the same rows (times are offsets
back from the anchor, midnight UTC today unless given, so "the last 30 days" always has data).
The URL's database must hold no tables yet: the reference schema is created first. Foreign-key
and user triggers are off while loading (`session_replication_role = replica`): the rows are
consistent by construction and the usage_tracking rows are loaded like the rest.

Without --url a throwaway cluster is started (tests/pg_cluster.py), loaded, its URL printed, and
kept until Ctrl-C, so `bench/run.py --url URL` can be pointed at it. Target (issue 7): under
5 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import psycopg

from adminui.demo import (
    DOMAINS,
    FAILURES,
    FIRST,
    FORMATS,
    LAST,
    PACKS,
    PROVIDERS,
    TIMEZONES,
    TOPICS,
)
from adminui.schema import schema_sql
from tests.pg_cluster import start_cluster

SEED = 7
DAY = 86_400
# Per user: how many rows each table gets (200,000 users make the sizes of issue 7).
IDEAS, EXECUTIONS, OUTPUTS, RECEIPTS = 2.5, 10, 5, 2
# Server settings of the throwaway cluster (RAM for the data, like a small production server).
CLUSTER = {"shared_buffers": "512MB", "work_mem": "32MB", "maintenance_work_mem": "512MB"}
CHUNK = 20_000
_SCRAMBLE = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd: multiplying by it mod 2**128 is a bijection
_SALT = 0x5BD1E9955BD1E9955BD1E9955BD1E995
_MASK = (1 << 128) - 1
# Table numbers inside ids.
USER, USAGE, IDEA, RUN, OUTPUT, RECEIPT, CREDENTIAL, POST = range(8)
_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]


def uid(table: int, n: int) -> str:
    """Row n's id: a UUID v4 scrambled from table and row number (a bijection, so no two rows
    share one), so rows can point at each other without keeping every id in memory."""
    h = f"{((n << 4 | table) * _SCRAMBLE ^ _SALT) & _MASK:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _escape(value: str) -> str:
    """COPY text format: backslash, tab and newline escaped."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Scale:
    """Streams each table's rows as COPY text, table by table, in the order of their keys."""

    def __init__(self, users: int, anchor: datetime) -> None:
        self.users = users
        self.ideas = int(users * IDEAS)
        self.executions = int(users * EXECUTIONS)
        self.outputs = int(users * OUTPUTS)
        self.receipts = int(users * RECEIPTS)
        self.anchor = int(anchor.timestamp())
        self._days: dict[int, str] = {}
        self.user_ids = [uid(USER, n) for n in range(users)]
        self.user_created = array("q")
        self.idea_user = array("i")
        self.idea_ids = [uid(IDEA, n) for n in range(self.ideas)]
        # The runs that produced an output: row number, idea, completion time.
        self.output_run = array("i")
        self.output_idea = array("i")
        self.output_at = array("q")

    def ts(self, epoch: int) -> str:
        """A timestamptz in COPY text (days formatted once each: this runs ~7 million times)."""
        day, second = divmod(epoch, DAY)
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = f"{datetime.fromtimestamp(day * DAY, UTC):%Y-%m-%d}"
        return f"{text} {_CLOCK[second]}+00"

    def user_rows(self) -> Iterator[str]:
        """Users signed up over three years, more of them recently."""
        rng = random.Random(SEED)
        for n in range(self.users):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}".lower()
            created = self.anchor - int(1095 * DAY * rng.random() ** 1.5)
            self.user_created.append(created)
            name = "\\N" if rng.random() < 0.04 else f"{first} {last}"
            at = self.ts(created)
            yield f"{self.user_ids[n]}\t{email}\t{name}\t{rng.choice(TIMEZONES)}\t{at}\t{at}\n"

    def usage_rows(self) -> Iterator[str]:
        """One row per user but every 50,000th (their row went missing, as in production)."""
        rng = random.Random(SEED + 1)
        for n in range(self.users):
            if n % 50_000 == 49_999:
                continue
            free, paid = rng.choice((0, 0, 1, 2, 5)), rng.choice((0, 0, 0, 3, 10, 25, 100))
            used_free = 5 - free
            used_paid = rng.randint(0, 40) if paid or rng.random() < 0.2 else 0
            at = self.ts(self.user_created[n])
            yield (
                f"{uid(USAGE, n)}\t{self.user_ids[n]}\t{free}\t{paid}\t{used_free + used_paid}\t"
                f"{used_free}\t{used_paid}\t{at}\t{at}\n"
            )

    def idea_rows(self) -> Iterator[str]:
        rng = random.Random(SEED + 2)
        for n in range(self.ideas):
            user = int(self.users * rng.random() ** 0.8)
            created = rng.randint(self.user_created[user], self.anchor)
            self.idea_user.append(user)
            topic = rng.choice(TOPICS)
            status = rng.choice(("pending", "expanded", "expanded", "archived"))
            at = self.ts(created)
            yield (
                f"{self.idea_ids[n]}\t{self.user_ids[user]}\t{topic.capitalize()}\t"
                f"Build {topic} for people who asked for it twice.\t{status}\t"
                f"{rng.randint(0, 100)}\t{at}\t{at}\n"
            )

    def execution_rows(self) -> Iterator[str]:
        """Runs over 24 months: 90% completed, ~8% failed, 2% partial, a few running (some of
        them stuck for days). Notes the runs that produced an output. A run's time is drawn
        on its own, not after its idea's: no statement relies on that order, and tying them
        piled most runs into the last weeks."""
        rng = random.Random(SEED + 3)
        failures = [(step, _escape(message)) for step, message in FAILURES]
        share = self.outputs / (self.executions * 0.9)
        for n in range(self.executions):
            idea = rng.randrange(self.ideas)
            user = self.idea_user[idea]
            # Growing use: about 8% of the runs in the last 30 days (~5,700 a day at 2M runs).
            started = self.anchor - int(730 * DAY * rng.random() ** 1.3)
            roll = rng.random()
            fmt = rng.choice(FORMATS)
            step = message = "\\N"
            duration = rng.randint(20, 280)
            if roll < 0.0005:
                status, duration = "running", None
                started = self.anchor - rng.choice((rng.randint(60, 900), rng.randint(1, 9) * DAY))
            elif roll < 0.0805:
                status = "failed"
                step, message = rng.choice(failures)
            elif roll < 0.1005:
                status = "partial"
                step, message = rng.choice(failures)
            else:
                status = "completed"
            produced = status in ("completed", "partial") and rng.random() < share
            if produced and len(self.output_run) < self.outputs:
                self.output_run.append(n)
                self.output_idea.append(idea)
                self.output_at.append(started + duration)
            finished = "\\N" if duration is None else str(duration)
            completed = "\\N" if duration is None else self.ts(started + duration)
            yield (
                f"{uid(RUN, n)}\t{self.user_ids[user]}\t{self.idea_ids[idea]}\t"
                f"Strong fit for a {fmt.replace('_', ' ')}: clear audience, concrete steps.\t"
                f"{rng.randint(40, 99)}\t{fmt}\tThe idea reads best as a {fmt}.\t{status}\t"
                f"{message}\t{step}\t{rng.randint(800, 24000)}\t"
                f"{finished}\t{self.ts(started)}\t{completed}\n"
            )

    def output_rows(self) -> Iterator[str]:
        """One output for each run noted by execution_rows, made when the run completed."""
        rng = random.Random(SEED + 4)
        for k, n in enumerate(self.output_run):
            idea = self.output_idea[k]
            user = self.idea_user[idea]
            fmt = rng.choice(FORMATS)
            published = "t" if rng.random() < 0.4 else "f"
            url = f"https://github.com/demo/repo-{k}" if published == "t" else "\\N"
            content = json.dumps({"title": f"Output {k}", "words": rng.randint(200, 2000)})
            at = self.ts(self.output_at[k])
            yield (
                f"{uid(OUTPUT, k)}\t{uid(RUN, n)}\t{self.user_ids[user]}\t{self.idea_ids[idea]}\t"
                f"{fmt}\t{content}\t{published}\t{url}\t{at}\n"
            )

    def receipt_rows(self) -> Iterator[str]:
        """Receipts over 24 months from a skewed set of payers (some pay often); one
        reference in a thousand reused."""
        rng = random.Random(SEED + 5)
        for n in range(self.receipts):
            user = int(self.users * rng.random() ** 1.6)
            created = self.anchor - rng.randrange(730 * DAY)
            credits, amount = rng.choice(PACKS)
            roll = rng.random()
            status = "verified" if roll < 0.88 else "pending" if roll < 0.95 else "refunded"
            ref = f"BMC-{(n - 1 if n % 1000 == 999 else n):07d}"
            verified = "\\N" if status == "pending" else self.ts(created + rng.randint(60, DAY))
            by = "\\N" if status == "pending" else rng.choice(("jordan", "sam"))
            yield (
                f"{uid(RECEIPT, n)}\t{self.user_ids[user]}\t{amount}\t{credits}\t{ref}\t\\N\t{by}\t"
                f"{status}\t{self.ts(created)}\t{verified}\n"
            )

    def credential_rows(self) -> Iterator[str]:
        rng = random.Random(SEED + 6)
        for n in range(0, self.users, 3):
            for p, provider in enumerate(rng.sample(PROVIDERS, rng.randint(1, 3))):
                state = rng.choice(("valid", "valid", "invalid", "not_checked"))
                at = self.ts(self.user_created[n])
                yield (
                    f"{uid(CREDENTIAL, n * 8 + p)}\t{self.user_ids[n]}\t{provider}\t"
                    f"v1:{n:x}:{p}\tt\t{state}\t{at}\t{at}\n"
                )

    def blog_rows(self) -> Iterator[str]:
        """A blog post for every tenth output."""
        for k in range(0, len(self.output_run), 10):
            user = self.idea_user[self.output_idea[k]]
            at = self.ts(self.output_at[k])
            yield (
                f"{uid(POST, k)}\t{uid(OUTPUT, k)}\t{self.user_ids[user]}\tPost {k}\tpost-{k}\t"
                f"# Post {k}\\n\\nBody.\t<h1>Post {k}</h1><p>Body.</p>\t{at}\t{at}\n"
            )


COLUMNS = {
    "users": "id, email, name, timezone, created_at, updated_at",
    "usage_tracking": "id, user_id, free_expansions_remaining, paid_credits_remaining, "
    "total_expansions_used, total_free_used, total_paid_used, created_at, updated_at",
    "ideas": "id, user_id, title, description, status, priority_score, created_at, updated_at",
    "executions": "id, user_id, selected_idea_id, judge_reasoning, judge_score, format_chosen, "
    "format_reasoning, status, error_message, error_step, tokens_used, duration_seconds, "
    "started_at, completed_at",
    "outputs": "id, execution_id, user_id, idea_id, format, content, published, publication_url, "
    "created_at",
    "payment_receipts": "id, user_id, amount_usd, credits_purchased, bmc_reference, notes, "
    "verified_by, status, created_at, verified_at",
    "credentials": "id, user_id, provider, encrypted_value, is_active, validation_status, "
    "created_at, updated_at",
    "blog_posts": "id, output_id, user_id, title, slug, markdown_content, html_content, "
    "created_at, updated_at",
}


def copy_rows(conn: psycopg.Connection, table: str, rows: Iterator[str]) -> int:
    """COPY one table from a stream of text lines, sent in chunks; the row count."""
    count = 0
    with conn.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in rows:
            chunk.append(line)
            if len(chunk) == CHUNK:
                copy.write("".join(chunk))
                count += CHUNK
                chunk = []
        copy.write("".join(chunk))
        count += len(chunk)
    return count


def load(url: str, users: int, anchor: datetime, say: Callable[[str], None] = print) -> float:
    """Create the reference schema at `url` and fill it; the seconds it took."""
    started = time.perf_counter()
    scale = Scale(users, anchor)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(schema_sql("postgresql"))
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            for table, rows in (
                ("users", scale.user_rows()),
                ("usage_tracking", scale.usage_rows()),
                ("ideas", scale.idea_rows()),
                ("executions", scale.execution_rows()),
                ("outputs", scale.output_rows()),
                ("payment_receipts", scale.receipt_rows()),
                ("credentials", scale.credential_rows()),
                ("blog_posts", scale.blog_rows()),
            ):
                count = copy_rows(conn, table, rows)
                say(f"  {table:17} {count:>10,} rows  ({time.perf_counter() - started:5.0f} s)")
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def parse_anchor(text: str | None) -> datetime:
    """The load's 'now': a given day, or midnight UTC today."""
    day = date.fromisoformat(text) if text else datetime.now(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a new cluster)")
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--anchor", help="the day the data ends (YYYY-MM-DD; default today)")
    args = parser.parse_args()
    anchor = parse_anchor(args.anchor)
    if args.url:
        seconds = load(args.url, args.users, anchor)
        print(f"loaded in {seconds:.0f} s")
        return
    with start_cluster(**CLUSTER) as server:
        server.psql("CREATE DATABASE bench")
        url = server.url("bench")
        seconds = load(url, args.users, anchor)
        print(f"loaded in {seconds:.0f} s\n{url}\nkept until Ctrl-C or SIGTERM")
        # A background job ignores SIGINT: let SIGTERM end it too, removing the cluster.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
