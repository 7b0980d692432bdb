"""The OmniChat pack (seed 002, Cloudflare D1: SQLite) on its demo data and the hazards of a D1
database: times in several forms whose text order lies, booleans as 0/1 and as 'true'/'false',
emails that differ only in case, and rows of every relation whose parent is gone. Every figure is
checked against the tables read here directly, through the same value rules."""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from adminui import d1_local
from adminui.db import Database
from adminui.errors import InputError, NotFoundError, SetupError
from adminui.ops import backups, orphans, users
from adminui.ops.records import records
from adminui.ops.values import Unreadable, as_bool, as_instant
from adminui.packs import recognise
from tests.conftest import (
    FIXTURE_NOW,
    OMNICHAT,
    PG_PASSWORD,
    dump_tables,
    execute,
    pg_profile,
    rows,
    run,
)

# What the demo plants, by check.
PLANTED = {
    "messages.conversationId": 3,
    "conversations.userId": 2,
    "api_usage.user_id": 3,
    "battery_transactions.user_id": 2,
    "user_battery.user_id": 1,
    "daily_usage_summary.user_id": 1,
    "user_subscriptions.plan_id": 0,
    "user_subscriptions.user_id": 1,
}


def test_the_catalog_tells_omnichat_and_it_runs_only_on_sqlite(omnichat: Database, pg_server):
    assert recognise(omnichat.tables(), "here") is OMNICHAT
    with pytest.raises(SetupError, match=r"OmniChat \(seed 002\) runs on SQLite; .* PostgreSQL"):
        Database(pg_profile(pg_server, "postgres"), PG_PASSWORD, pack=OMNICHAT)


def _written(instant: datetime, form: int) -> object:
    """An instant in one of the forms D1 products store."""
    return [
        lambda: instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z",
        lambda: instant.strftime("%Y-%m-%d %H:%M:%S"),
        lambda: (instant + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"),
        lambda: (instant - timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S-05:30"),
        lambda: int(instant.timestamp()),  # seconds, stored by TEXT affinity as its digits
        lambda: int(instant.timestamp() * 1000),  # milliseconds
        lambda: instant.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    ][form]()


def test_lists_order_by_the_instant_not_the_text(omnichat: Database) -> None:
    """Thirty users signed up minutes apart, each time written in another form: the newest
    list puts them in the order of the instants (not of the text, which differs), each shown
    as that instant; a time nobody can read is shown as it is and sorts last."""
    start = datetime(2031, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)
    made = []
    for n in range(30):
        instant = start + timedelta(minutes=7 * n)
        if n % 7 not in (0, 5, 6):  # the forms that hold whole seconds only
            instant = instant.replace(microsecond=0)
        made.append((f"user_t{n:02d}", instant, _written(instant, n % 7)))
    for user_id, _, written in made:
        execute(
            omnichat,
            "INSERT INTO users (id, email, createdAt) VALUES (:id, :email, :at)",
            id=user_id,
            email=f"{user_id}@example.com",
            at=written,
        )
    execute(
        omnichat, "INSERT INTO users (id, email, createdAt) VALUES ('user_t_bad', 'b@x', 'soon')"
    )
    listed = users.recent_users(omnichat, limit=10_000).rows
    newest = [(r.id, r.createdAt) for r in listed[:30]]
    assert newest == [(user_id, instant) for user_id, instant, _ in reversed(made)]
    by_text = sorted(made, key=lambda m: str(m[2]), reverse=True)
    assert [m[0] for m in by_text] != [m[0] for m in reversed(made)]  # the text order lies
    assert listed[-1].id == "user_t_bad" and listed[-1].createdAt == Unreadable("soon")
    assert isinstance(listed[-1].createdAt, Unreadable)


BEYOND_DATETIME = ("0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00")


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T10:00Z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01T10:00:00.1234567Z", datetime(2026, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("1777629600", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        (1777629600123, datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
        ("2026-05-01t10:00:00z", Unreadable("2026-05-01t10:00:00z")),
        ("2026-05-01T10:00:00z", datetime(2026, 5, 1, 10, tzinfo=UTC)),
        ("2026-05-01 T 10:00:00 +02:00 ", datetime(2026, 5, 1, 8, tzinfo=UTC)),
        ("2026-05-01T24:00", datetime(2026, 5, 2, tzinfo=UTC)),  # SQLite rolls over, and so
        ("2026-02-30 10:00:00", datetime(2026, 3, 2, 10, tzinfo=UTC)),  # does adminui
        ("2026-05-01T10:00:00+15:00", Unreadable("2026-05-01T10:00:00+15:00")),
        ("2026-05-01+02:00", Unreadable("2026-05-01+02:00")),
        (" 2026-05-01T10:00:00Z", Unreadable(" 2026-05-01T10:00:00Z")),
        ("1777629600\n", Unreadable("1777629600\n")),
        ("¹⁷⁷⁷⁶²⁹⁶⁰⁰", Unreadable("¹⁷⁷⁷⁶²⁹⁶⁰⁰")),
        ("٢٠٢٦-05-01", Unreadable("٢٠٢٦-05-01")),
        ("0001-01-01T00:30:00+01:00", Unreadable("0001-01-01T00:30:00+01:00")),
        ("9999-12-31T23:59:59-01:00", Unreadable("9999-12-31T23:59:59-01:00")),
        ("20260501", Unreadable("20260501")),
        ("2026-05-01 10:00:00 UTC", Unreadable("2026-05-01 10:00:00 UTC")),
        ("", Unreadable("")),
    ],
)
def test_a_time_is_read_as_sqlite_reads_it_or_flagged(
    omnichat: Database, stored: object, read: object
) -> None:
    """adminui's reading of a stored time agrees with the vetted SQL's (julianday after the same
    rule), and what can't be read comes back as its text, flagged."""
    assert as_instant(stored) == read and type(as_instant(stored)) is type(read)
    # The SQL's own reading (the rule every statement orders by), on the value as bound.
    [sql] = rows(
        omnichat, f"SELECT {INSTANT.format(t='x.v')} AS jd FROM (SELECT :v AS v) x", v=stored
    )
    if stored in BEYOND_DATETIME:  # SQLite reads it; a Python datetime can't hold it
        assert sql["jd"] is None or not 1721425.5 <= sql["jd"] < 5373484.5
    elif isinstance(read, Unreadable):
        assert sql["jd"] is None
    else:
        assert abs(sql["jd"] - (read.timestamp() / 86400 + 2440587.5)) < 1e-8
    execute(
        omnichat,
        "INSERT INTO users (id, email, createdAt) VALUES ('user_probe', 'p@x', :at)",
        at=stored,
    )
    listed = users.recent_users(omnichat, limit=10_000).rows
    [row] = [r for r in listed if r.id == "user_probe"]
    assert row.createdAt == read
    # The whole list is in the order of the instants read here: newest first, the unreadable last.
    readable = [r for r in listed if not isinstance(r.createdAt, Unreadable)]
    assert [r.id for r in readable] == [
        r.id for r in sorted(readable, key=lambda r: (r.createdAt, r.id), reverse=True)
    ]
    assert listed[len(readable) :] == tuple(r for r in listed if r not in readable)


def test_booleans_stored_as_numbers_or_words_read_alike(omnichat: Database) -> None:
    stored = rows(omnichat, "SELECT id, pinned, archived FROM conversations ORDER BY id")
    assert {type(r["pinned"]) for r in stored} == {int, str}  # the demo's hazard is there
    read = records(OMNICHAT, stored)
    assert {r.pinned for r in read} == {True, False}
    for raw, row in zip(stored, read, strict=True):
        assert row.pinned is (str(raw["pinned"]).lower() in ("1", "true"))
    assert as_bool("FALSE") is False and as_bool("yes") == Unreadable("yes")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("linus.3@", {"user_2N000003"}),
        ("user_2N000042", {"user_2N000042"}),
        ("cus_demo000015", {"user_2N000015"}),
        ("SAM.case", {"user_2NcaseA", "user_2Ncasea"}),
    ],
)
def test_users_are_found_by_what_support_is_told(
    omnichat: Database, typed: str, expected: set[str]
) -> None:
    assert {r.id for r in users.find_users(omnichat, typed).rows} == expected


def test_a_subscription_s_stripe_customer_finds_its_user(omnichat: Database) -> None:
    execute(
        omnichat,
        "UPDATE user_subscriptions SET stripe_customer_id = 'cus_moved' "
        "WHERE user_id = 'user_2N000006'",
    )
    assert [r.id for r in users.find_users(omnichat, "cus_moved").rows] == ["user_2N000006"]


def test_case_twin_emails_resolve_exactly_or_ask_for_the_id(omnichat: Database) -> None:
    assert users.resolve_user(omnichat, "Sam.Case@example.com") == "user_2NcaseA"
    assert users.resolve_user(omnichat, "sam.case@example.com") == "user_2Ncasea"
    with pytest.raises(NotFoundError, match=r"2 users have the email 'SAM\.CASE@example\.com'"):
        users.resolve_user(omnichat, "SAM.CASE@example.com")
    assert users.resolve_user(omnichat, "user_2N000003") == "user_2N000003"
    with pytest.raises(NotFoundError):
        users.resolve_user(omnichat, "USER_2N000003")  # Clerk ids are exact


def test_every_user_s_detail_agrees_with_the_tables(omnichat: Database) -> None:
    """For every user: counts, the latest balance_after (by instant), the latest ten ledger rows
    newest first, and usage by model over the 30 days before the fixture's now, cached answers
    counted however the flag was stored."""
    ledger = defaultdict(list)
    for r in rows(omnichat, "SELECT * FROM battery_transactions"):
        ledger[r["user_id"]].append(r)
    usage = defaultdict(list)
    window = (FIXTURE_NOW - timedelta(days=30)).date().isoformat()
    for r in rows(omnichat, "SELECT * FROM api_usage"):
        if r["date"] > window:
            usage[r["user_id"]].append(r)
    conversations = Counter(r["userId"] for r in rows(omnichat, "SELECT userId FROM conversations"))
    messages = Counter(
        r["userId"]
        for r in rows(
            omnichat,
            "SELECT c.userId FROM messages m JOIN conversations c ON c.id = m.conversationId",
        )
    )
    ids = [r["id"] for r in rows(omnichat, "SELECT id FROM users")]
    assert len(ids) > 100
    for user_id in ids:
        detail = users.get_user_detail(omnichat, user_id, now=FIXTURE_NOW)
        mine = sorted(ledger[user_id], key=lambda r: (as_instant(r["created_at"]), r["id"]))
        assert detail.transaction_count == len(mine)
        assert detail.last_balance_after == (mine[-1]["balance_after"] if mine else None)
        assert [t.id for t in detail.transactions] == [r["id"] for r in reversed(mine)][:10]
        assert (detail.conversations, detail.messages) == (
            conversations[user_id],
            messages[user_id],
        )
        assert detail.requests_30d == len(usage[user_id])
        expected = {}
        for model in {r["model"] for r in usage[user_id]}:
            used = [r for r in usage[user_id] if r["model"] == model]
            cached = sum(1 for r in used if as_bool(r["cached"]))
            expected[model] = (
                len(used),
                sum(r["battery_used"] for r in used),
                round(100 * cached / len(used), 1),
            )
        assert {
            u.model: (u.requests, u.battery_used, u.cached_percent) for u in detail.usage_by_model
        } == expected
    assert any(d for d in usage.values()) and any(len(v) > 1 for v in ledger.values())


def test_users_show_speaks_the_product_s_column_names(omnichat: Database, capsys) -> None:
    url = str(omnichat.profile.url)
    code, out, err = run(capsys, "--url", url, "users", "show", "user_2N000003", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    [raw] = rows(omnichat, "SELECT * FROM users WHERE id = 'user_2N000003'")
    assert {"stripeCustomerId", "subscriptionStatus", "createdAt", "total_balance"} <= set(shown)
    assert shown["stripeCustomerId"] == raw["stripeCustomerId"]
    assert datetime.fromisoformat(shown["createdAt"]) == as_instant(raw["createdAt"])
    assert shown["transactions"][0]["balance_after"] == shown["last_balance_after"]


def test_every_check_counts_what_the_demo_planted(omnichat: Database) -> None:
    counted = {c.check.name: c.count for c in orphans.scan(omnichat, full=True)}
    assert counted == PLANTED
    # Independently, as seed 002's operators would ask.
    gone = rows(
        omnichat,
        "SELECT count(*) AS n FROM messages "
        "WHERE conversationId NOT IN (SELECT id FROM conversations)",
    )
    assert gone == [{"n": PLANTED["messages.conversationId"]}]


@pytest.mark.parametrize("name", sorted(n for n, planted in PLANTED.items() if planted))
def test_a_clean_and_its_restore_give_back_every_row_whole(
    omnichat_file: Database, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean each check (its dependents included), then restore: every table as before, value
    for value, the mixed times and text booleans included."""
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    check = orphans.get_check(name, OMNICHAT)
    before = dump_tables(omnichat_file, OMNICHAT)
    saved = backups.backup(omnichat_file, check, tmp_path / "b.jsonl", include_dependents=True)
    result = orphans.clean(omnichat_file, saved, "tester")
    assert (result.acted_on, result.remaining) == (PLANTED[name], 0)
    assert dump_tables(omnichat_file, OMNICHAT) != before
    restoring = Database(omnichat_file.profile, pack=OMNICHAT, enforce_foreign_keys=False)
    try:
        restored = backups.restore(restoring, backups.read_backup(saved.path), "tester")
    finally:
        restoring.dispose()
    assert restored.refused == ()
    assert dump_tables(omnichat_file, OMNICHAT) == before


INSTANT = (
    "COALESCE(CASE WHEN {t} NOT GLOB '*[^0-9]*' AND length({t}) BETWEEN 9 AND 13 "
    "THEN julianday(CASE WHEN length({t}) >= 12 THEN {t} / 1000.0 ELSE {t} + 0 END, "
    "'unixepoch') END, "
    "CASE WHEN {t} GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday({t}) END)"
)


@pytest.mark.parametrize("pack", ["omnichat", "filepath"])
def test_every_statement_orders_by_the_one_rule_of_an_instant(pack: str) -> None:
    """SQLite on D1 has no functions of adminui's own, so the instant rule is written out in each
    statement that orders by a time: every copy is the rule of users.sql's header (the one the
    tests above check against as_instant), for its own column."""
    import re

    from adminui.queries import Registry

    registry = Registry.load(pack=pack)
    found = 0
    for name in registry.names():
        sql = " ".join(registry.get(name, "sqlite").sql.split())
        sql = sql.replace("( ", "(").replace(" )", ")")
        for start in [m.start() for m in re.finditer(r"COALESCE\(CASE WHEN \S+ NOT GLOB", sql)]:
            column = sql[start:].split()[2]
            assert sql[start:].startswith(INSTANT.format(t=column)), (name, sql[start:][:300])
            found += 1
    assert found >= 4  # recent_users, find_users, and the lists ordered by a time


def _project(tmp_path: Path, *copies: Path) -> Path:
    """A project folder whose .wrangler state holds these files, as wrangler names them."""
    state = (
        tmp_path / "project" / ".wrangler" / "state" / "v3" / "d1" / "miniflare-D1DatabaseObject"
    )
    state.mkdir(parents=True)
    for number, source in enumerate(copies):
        shutil.copy(source, state / f"{number:02x}5c0ffee.sqlite")
    return tmp_path / "project"


def test_d1_local_finds_the_project_s_one_database(omnichat_template: Path, tmp_path, capsys):
    project = _project(tmp_path, omnichat_template)
    code, out, err = run(capsys, "--d1-local", str(project), "users", "find", "sam.case")
    assert code == 0, err
    assert {"user_2NcaseA", "user_2Ncasea"} <= set(out.split())


def test_d1_local_with_several_lists_them_and_asks_at_a_terminal(
    omnichat_template: Path, sqlite_template: Path, tmp_path, capsys
) -> None:
    project = _project(tmp_path, omnichat_template, sqlite_template)
    code, out, err = run(capsys, "--d1-local", str(project), "users", "find", "sam.case")
    assert (code, out) == (2, "")  # a script is told, not asked
    assert "holds 2 D1 databases" in err and "005c0ffee.sqlite" in err and "015c0ffee.sqlite" in err
    root, files = d1_local.sqlite_files(str(project))
    asked = io.StringIO()
    chosen = d1_local.ask(files, root, io.StringIO("2\n"), asked)
    assert (
        chosen == files[1] and "1. " in asked.getvalue() and "Which one (1-2)?" in asked.getvalue()
    )
    with pytest.raises(InputError, match="not one of 1 to 2"):
        d1_local.ask(files, root, io.StringIO("3\n"), io.StringIO())


def test_d1_local_without_a_copy_or_with_url_is_one_sentence(tmp_path, capsys) -> None:
    code, _, err = run(capsys, "--d1-local", str(tmp_path), "users", "find", "sam")
    assert code == 2 and "run `wrangler d1 execute DB --local` there first" in err
    (tmp_path / ".wrangler" / "state" / "v3" / "d1").mkdir(parents=True)
    code, _, err = run(capsys, "--d1-local", str(tmp_path), "users", "find", "sam")
    assert code == 2 and "holds no .sqlite file" in err
    code, _, err = run(
        capsys, "--d1-local", str(tmp_path), "--url", "sqlite:///x", "users", "find", "x"
    )
    assert code != 0 and "--d1-local: give it or --url, not both" in err


def test_a_name_outside_ascii_is_found_as_d1_s_like_matches_it(omnichat: Database) -> None:
    """D1's LIKE ignores the case of ASCII letters only: 'JOSÉ' finds 'JOSÉ MÜLLER' (the text is
    matched as typed, not folded), 'josé' doesn't, 'jos' does."""
    execute(
        omnichat,
        "INSERT INTO users (id, email, name, createdAt) VALUES ('user_j', 'j@x.io', 'JOSÉ MÜLLER', "
        "'2026-01-01')",
    )
    found = {t: [r.id for r in users.find_users(omnichat, t).rows] for t in ("JOSÉ", "josé", "jos")}
    assert found["JOSÉ"] == ["user_j"] and found["josé"] == [] and "user_j" in found["jos"]


def test_d1_local_follows_a_linked_state_folder(omnichat_template: Path, tmp_path, capsys) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    shutil.copy(omnichat_template, real / "ab12.sqlite")
    (real / "ab12.sqlite-wal").write_bytes(b"")  # not a database of its own
    state = tmp_path / "project" / ".wrangler" / "state" / "v3" / "d1"
    state.mkdir(parents=True)
    (state / "miniflare-D1DatabaseObject").symlink_to(real)
    code, out, err = run(capsys, "--d1-local", str(tmp_path / "project"), "users", "find", "sam.c")
    assert code == 0, err
    assert "user_2NcaseA" in out


def _ledgers(db: Database) -> dict[str, list[dict]]:
    """Each user's battery_transactions in the order of their instants (an unreadable time
    first, as SQL sorts a NULL), then ids: computed here from the raw rows."""
    chains: dict[str, list[dict]] = defaultdict(list)
    for row in rows(
        db, "SELECT id, user_id, amount, balance_after, created_at FROM battery_transactions"
    ):
        chains[row["user_id"]].append(row)
    for chain in chains.values():

        def order(row: dict) -> tuple:
            at = as_instant(row["created_at"])
            readable = isinstance(at, datetime)
            return (readable, at if readable else datetime.min.replace(tzinfo=UTC), row["id"])

        chain.sort(key=order)
    return chains


def test_ledger_health_finds_what_the_rows_say_side_by_side(omnichat: Database, capsys) -> None:
    from adminui.ops.reports import read_all

    chains = _ledgers(omnichat)
    last = {user: chain[-1]["balance_after"] for user, chain in chains.items()}
    unbalanced = {
        b["user_id"]: b["total_balance"] - last.get(b["user_id"], 0)
        for b in rows(omnichat, "SELECT user_id, total_balance FROM user_battery")
        if b["total_balance"] != last.get(b["user_id"], 0)
    }
    breaks = {
        row["id"]: row["balance_after"] - (before["balance_after"] + row["amount"])
        for chain in chains.values()
        for before, row in pairwise(chain)
        if row["balance_after"] != before["balance_after"] + row["amount"]
    }
    assert unbalanced.get("user_2N000037") == 50 and breaks  # the demo's planted hazards
    found = {f.report.name: f for f in read_all(omnichat, "health", 10_000)}
    assert found["balances"].found == len(unbalanced) == len(found["balances"].rows)
    assert {r.user_id: r.difference for r in found["balances"].rows} == unbalanced
    assert {r.id: r.difference for r in found["chain"].rows} == breaks
    assert found["chain"].found == len(breaks)
    shown = found["chain"].rows[0]
    assert shown.expected == shown.previous_balance_after + shown.amount != shown.balance_after
    code, out, err = run(
        capsys,
        "--url",
        str(omnichat.profile.url),
        "ledger-health",
        "--limit",
        "2",
        "--format",
        "json",
    )
    assert code == 0, err
    told = json.loads(out)
    assert told["balances"]["found"] == len(unbalanced) and len(told["chain"]["rows"]) == 2
    assert "2 of" in err
