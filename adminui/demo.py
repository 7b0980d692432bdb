"""The demo database: realistic, deterministic data in the reference schema.

`adminui demo` builds it in SQLite so a newcomer sees real-looking rows at once; the tests load
the same data into PostgreSQL and SQLite. The same seed, user count and anchor time give the same
rows, ids included. It also plants what the tools exist for: failed runs with multi-line errors,
receipts in every status (some sharing a bmc_reference), a user without usage_tracking and, when
asked, a few orphan rows.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from adminui.db import Database
from adminui.schema import schema_sql

DEFAULT_USERS = 2000
SEED = 2026

# fmt: off
FIRST = ("Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Dennis", "Margaret", "Edsger",
         "Donald", "Frances", "Radia", "John", "Katherine", "Tim", "Guido", "Yukihiro", "Anders",
         "Bjarne", "Sophie", "Hedy", "Annie", "Jean", "Lynn", "Mary", "Niklaus", "Leslie",
         "Shafi", "Sanjay", "Priya", "Mei", "Kenji", "Olga", "Lars", "Ines", "Tomás", "Zoë",
         "Amara", "Kwame", "Chen")
LAST = ("Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Ritchie", "Hamilton",
        "Dijkstra", "Knuth", "Allen", "Perlman", "Backus", "Johnson", "Berners-Lee", "Rossum",
        "Matsumoto", "Hejlsberg", "Stroustrup", "Wilson", "Lamarr", "Easley", "Sammet", "Conway",
        "Shaw", "Wirth", "Lamport", "Goldwasser", "Ghemawat", "Patel", "Wang", "Sato", "Ivanova",
        "Nilsson", "García", "Muñoz", "Okafor", "Mensah", "Li")
DOMAINS = ("gmail.com", "outlook.com", "proton.me", "fastmail.com", "icloud.com", "hey.com",
           "example.org", "startup.io", "university.edu")
TIMEZONES = ("UTC", "America/New_York", "America/Los_Angeles", "Europe/Berlin", "Europe/London",
             "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo")
# fmt: on
TOPICS = (
    "a CLI that summarises pull requests",
    "recipe planner from fridge photos",
    "weekly newsletter of arXiv papers",
    "habit tracker with streak insurance",
    "open-source status page",
    "podcast show-notes generator",
    "garden watering scheduler",
    "invoice OCR for freelancers",
    "a Rust port of a Python library",
    "study-group matcher",
    "local-first notes app",
    "bike route difficulty scorer",
    "API changelog watcher",
    "language-learning flashcards from subtitles",
    "tiny static-site generator",
)
FORMATS = ("blog_post", "twitter_thread", "github_repo", "image")
PROVIDERS = ("github", "openai", "anthropic", "twitter", "replicate")
OPERATORS = ("jordan", "sam")
PACKS = ((5, "5.00"), (10, "9.00"), (25, "20.00"), (50, "37.50"), (100, "70.00"), (3, "3.33"))

# (error_step, multi-line message) pairs: what on-call really sees.
FAILURES = (
    (
        "judge",
        "OpenAI API error: 429 Rate limit reached for gpt-4o in organization org-demo on "
        "tokens per min (TPM): Limit 30000, Used 29873, Requested 1204.\n"
        "    at callJudge (src/lib/agents/judge.ts:88:11)\n"
        "    at async runPipeline (src/lib/pipeline.ts:41:5)",
    ),
    (
        "format_selection",
        "Format selector returned no valid format.\n"
        'Expected one of blog_post, twitter_thread, github_repo, image; got "newsletter".\n'
        "    at selectFormat (src/lib/agents/format.ts:57:9)",
    ),
    (
        "generation",
        "Anthropic API error: 529 Overloaded\n"
        '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n'
        "    at generateContent (src/lib/agents/writer.ts:120:15)\n"
        "    at async runPipeline (src/lib/pipeline.ts:63:7)",
    ),
    (
        "generation",
        "Context length exceeded: 131072 tokens maximum, 140233 requested.\n"
        "Idea description and 14 external links were included in the prompt.\n"
        "    at generateContent (src/lib/agents/writer.ts:98:13)",
    ),
    (
        "image_generation",
        "Replicate prediction failed: NSFW content detected in output [0].\n"
        "prediction id: p7x2k9demo\n"
        "    at createImage (src/lib/agents/image.ts:44:11)",
    ),
    (
        "github_publish",
        "GitHub API error: 422 Repository creation failed.\n"
        "name already exists on this account\n"
        "    at publishRepo (src/lib/publishers/github.ts:73:9)\n"
        "    at async runPipeline (src/lib/pipeline.ts:88:5)",
    ),
    (
        "github_publish",
        "GitHub API error: 401 Bad credentials [token expired]\n"
        "The stored credential for provider 'github' is no longer valid.\n"
        "    at publishRepo (src/lib/publishers/github.ts:61:13)",
    ),
    (
        "blog_render",
        "MDX compile error at line 42: Unexpected character `<` (U+003C) before name\n"
        "  40 | ## Results\n  41 |\n> 42 | <Chart data={[bold]results[/bold]} />\n"
        "    at renderBlog (src/lib/publishers/blog.ts:30:20)",
    ),
    (
        "credit_consume",
        "consume_expansion_credit failed: User has no credits remaining\n"
        "    at consumeCredit (src/lib/credits.ts:19:11)",
    ),
    (
        "timeout",
        "Pipeline timed out after 300 s (Vercel function limit).\n"
        "Last completed step: generation\n"
        "    at Timeout._onTimeout (src/lib/pipeline.ts:12:30)",
    ),
)


@dataclass
class _Rows:
    users: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    ideas: list[dict[str, Any]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    blog_posts: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    without_usage: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoSummary:
    """What was built, for the message after `adminui demo`."""

    users: int
    executions: int
    receipts: int
    orphans: int


def anchor_now() -> datetime:
    """The demo's 'now': the start of the current hour, so recent windows are never empty."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class _Generator:
    def __init__(self, users: int, now: datetime, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = users
        self.now = now
        self.rows = _Rows()
        self.references = 0

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def before(self, latest: datetime, days: float) -> datetime:
        """A time up to `days` before `latest`, whole seconds."""
        return latest - timedelta(seconds=int(self.rng.random() * days * 86400))

    def since(self, start: datetime) -> datetime:
        """A time between `start` and now, whole seconds."""
        return self.before(self.now, (self.now - start).total_seconds() / 86400)

    def build(self) -> _Rows:
        for n in range(self.count):
            self.user(n)
        # One user whose usage_tracking row went missing (the trigger was off during an import).
        if self.rows.users:
            self.rows.without_usage.append(self.rows.users[len(self.rows.users) // 3]["id"])
        return self.rows

    def user(self, n: int) -> None:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}".lower().replace(" ", "")
        # More recent sign-ups are more frequent: skew towards now. One in twenty is an early
        # adopter who signed up over a year ago and paid soon after, so payments span 12+ months.
        early = n % 20 == 0
        created = self.before(self.now, 540 * rng.random() ** 1.6)
        if early:
            created = self.now - timedelta(days=400 + rng.randint(0, 30))
        user = {
            "id": self.uid(),
            "email": email,
            "name": None if rng.random() < 0.04 else f"{first} {last}",
            "timezone": rng.choice(TIMEZONES),
            "created_at": created,
        }
        self.rows.users.append(user)
        ideas = [self.idea(user) for _ in range(rng.choice((0, 1, 2, 3, 4, 6, 9)))]
        used = free_used = paid_used = 0
        for _ in range(rng.choice((0, 0, 1, 2, 3, 5, 8, 13))):
            status = self.execution(user, ideas)
            if status in ("completed", "partial"):
                used += 1
                free_used += 1 if free_used < 5 else 0
        paid_used = used - free_used
        bought = self.receipt(user, created + timedelta(days=2)) if early else 0
        bought += sum(self.receipt(user) for _ in range(self.receipt_count()))
        paid_used = min(paid_used, bought)
        self.rows.usage.append(
            {
                "user_id": user["id"],
                "free": 5 - free_used,
                "paid": bought - paid_used,
                "used": free_used + paid_used,
                "free_used": free_used,
                "paid_used": paid_used,
            }
        )
        for provider in rng.sample(PROVIDERS, rng.choice((0, 1, 1, 2, 3))):
            self.rows.credentials.append(
                {
                    "id": self.uid(),
                    "user_id": user["id"],
                    "provider": provider,
                    "encrypted_value": f"demo-not-a-secret:{rng.getrandbits(64):016x}",
                    "is_active": rng.random() > 0.15,
                    "validation_status": rng.choice(("valid", "valid", "invalid", "not_checked")),
                    "created_at": self.since(created),
                }
            )

    def idea(self, user: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        topic = rng.choice(TOPICS)
        idea = {
            "id": self.uid(),
            "user_id": user["id"],
            "title": topic[0].upper() + topic[1:],
            "description": f"Build {topic}. Who needs it, what the first version does, and why "
            "now.",
            "status": rng.choice(("pending", "pending", "expanded", "archived")),
            "priority_score": rng.randint(0, 100),
            "created_at": self.since(user["created_at"]),
        }
        self.rows.ideas.append(idea)
        return idea

    def execution(self, user: dict[str, Any], ideas: list[dict[str, Any]]) -> str:
        rng = self.rng
        roll = rng.random()
        status = (
            "completed"
            if roll < 0.80
            else "failed"
            if roll < 0.89
            else "partial"
            if roll < 0.95
            else "running"
        )
        started = self.since(user["created_at"])
        if status == "running":  # most are just now; some are stuck for hours
            started = self.before(self.now, 0.02 if rng.random() < 0.7 else 2)
        idea = rng.choice(ideas) if ideas else None
        fmt = rng.choice(FORMATS)
        duration = None if status == "running" else rng.randint(8, 280)
        step, message = rng.choice(FAILURES) if status in ("failed", "partial") else (None, None)
        if status == "failed" and rng.random() < 0.02:
            message = f"{message}\n" + "\n".join(
                f"    at frame{i} (node_modules/.pnpm/lib/chunk-{i}.js:{i * 7}:{i})"
                for i in range(160)
            )
        execution = {
            "id": self.uid(),
            "user_id": user["id"],
            "selected_idea_id": idea["id"] if idea else None,
            "judge_score": rng.randint(20, 98),
            "format_chosen": fmt,
            "status": status,
            "error_message": message,
            "error_step": step,
            "tokens_used": 0 if status == "running" else rng.randint(900, 48000),
            "duration_seconds": duration,
            "started_at": started,
            "completed_at": started + timedelta(seconds=duration) if duration else None,
        }
        self.rows.executions.append(execution)
        if status in ("completed", "partial"):
            formats = (fmt, rng.choice(FORMATS)) if status == "completed" else (fmt,)
            for output_format in dict.fromkeys(formats):  # unique, in a fixed order
                self.output(execution, idea, output_format)
        return status

    def output(self, execution: dict[str, Any], idea: dict[str, Any] | None, fmt: str) -> None:
        rng = self.rng
        published = rng.random() < 0.4
        output = {
            "id": self.uid(),
            "execution_id": execution["id"],
            "user_id": execution["user_id"],
            "idea_id": idea["id"] if idea else None,
            "format": fmt,
            "content": json.dumps(
                {"title": idea["title"] if idea else "Untitled", "words": rng.randint(300, 2400)}
            ),
            "published": published,
            "publication_url": f"https://example.com/p/{rng.getrandbits(32):08x}"
            if published
            else None,
            "created_at": execution["completed_at"] or execution["started_at"],
        }
        self.rows.outputs.append(output)
        if fmt == "blog_post":
            title = idea["title"] if idea else "Untitled"
            slug = f"{title.lower().replace(' ', '-')[:40]}-{len(self.rows.blog_posts)}"
            self.rows.blog_posts.append(
                {
                    "id": self.uid(),
                    "output_id": output["id"],
                    "user_id": output["user_id"],
                    "title": title,
                    "slug": slug,
                    "markdown_content": f"# {title}\n\nA first draft.",
                    "html_content": f"<h1>{title}</h1><p>A first draft.</p>",
                    "created_at": output["created_at"],
                }
            )

    def receipt_count(self) -> int:
        roll = self.rng.random()
        return 0 if roll < 0.72 else 1 if roll < 0.88 else 2 if roll < 0.96 else 4

    def receipt(self, user: dict[str, Any], at: datetime | None = None) -> int:
        """Adds one receipt (at a random time since sign-up unless given); the credits it
        granted (0 unless verified)."""
        rng = self.rng
        credits, amount = rng.choice(PACKS)
        created = at or max(self.since(user["created_at"]), self.before(self.now, 420))
        roll = rng.random()
        status = "verified" if roll < 0.88 else "pending" if roll < 0.95 else "refunded"
        self.references += 1
        reference = f"BMC-{100000 + self.references * 7:06d}"
        if self.rows.receipts and rng.random() < 0.03:  # a reused reference: the grant hazard
            reference = rng.choice(self.rows.receipts)["bmc_reference"]
        self.rows.receipts.append(
            {
                "id": self.uid(),
                "user_id": user["id"],
                "amount_usd": Decimal(amount),
                "credits_purchased": credits,
                "bmc_reference": reference,
                "notes": None
                if rng.random() < 0.7
                else rng.choice(
                    ("Paid via BMC membership", "Coffee x3", "refund requested: duplicate payment")
                ),
                "verified_by": None if status == "pending" else rng.choice(OPERATORS),
                "status": status,
                "created_at": created,
                "verified_at": None if status == "pending" else created + timedelta(hours=2),
            }
        )
        return credits if status == "verified" else 0

    def orphans(self) -> _Rows:
        """Rows whose parents are gone: what a lost foreign key leaves behind (seed 003)."""
        orphans = _Rows()
        ghost = {"id": self.uid(), "created_at": self.now - timedelta(days=30)}
        saved, self.rows = self.rows, orphans
        ideas = [self.idea(ghost) for _ in range(2)]
        for _ in range(3):
            self.execution(ghost, ideas)
        self.receipt(ghost)
        self.rows = saved
        return orphans


def populate(
    db: Database,
    users: int,
    *,
    now: datetime | None = None,
    seed: int = SEED,
    orphans: bool = False,
) -> DemoSummary:
    """Insert demo rows into a database that already has the reference schema."""
    generator = _Generator(users, now or anchor_now(), seed)
    rows = generator.build()
    extra = generator.orphans() if orphans else _Rows()
    with db.write() as tx:
        tx.run_many("insert_user", rows.users)
        tx.run_many("set_usage", rows.usage)
        for batch in (rows, extra):
            tx.run_many("insert_idea", batch.ideas)
            tx.run_many("insert_execution", batch.executions)
            tx.run_many("insert_output", batch.outputs)
            tx.run_many("insert_blog_post", batch.blog_posts)
            tx.run_many("insert_receipt", batch.receipts)
        tx.run_many("insert_credential", rows.credentials)
        tx.run_many("delete_usage", [{"user_id": u} for u in rows.without_usage])
    orphan_count = sum(
        len(x)
        for x in (extra.ideas, extra.executions, extra.outputs, extra.blog_posts, extra.receipts)
    )
    return DemoSummary(len(rows.users), len(rows.executions), len(rows.receipts), orphan_count)


def build_demo(
    db: Database,
    users: int = DEFAULT_USERS,
    *,
    now: datetime | None = None,
    seed: int = SEED,
    orphans: bool = True,
) -> DemoSummary:
    """Create the reference schema in an empty database and fill it."""
    db.run_script(schema_sql(db.dialect))
    return populate(db, users, now=now, seed=seed, orphans=orphans)
