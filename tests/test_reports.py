"""OmniChat's usage and money reports (issue 16), each held to the same figures worked out in
Python from the raw rows: the usage list in the instant order of mixed time formats, paged to
the end without a row lost or twice; the filters; top users; the daily summaries against
api_usage; the ledger by month; subscriptions and MRR as exact money; the CLI's export; and the
screens, driven."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from textual.widgets import Input, TabbedContent

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops import reports
from adminui.ops.values import Unreadable, as_instant
from adminui.tui.app import AdminApp
from adminui.tui.paged_table import PagedTable
from adminui.tui.reports import ReportsScreen
from adminui.tui.user_detail import UserDetailScreen
from tests.conftest import FIXTURE_NOW, execute, rows, run
from tests.test_tui import wait_until

# Times in every form the D1 tables hold, as api_usage rows of one user: the list must order
# them by the instant they name, and put the unreadable one last.
ODD_TIMES = {
    "use_epoch_s": "1764000000",  # 2025-11-24 16:00:00 UTC
    "use_epoch_ms": "1764000000500",  # half a second later
    "use_offset": "2025-11-24T18:00:01+02:00",  # 16:00:01 UTC
    "use_space": "2025-11-24 16:00:02",
    "use_garbled": "yesterday-ish",
}
USER = "user_2N000003"


def report(db: Database, job: str, name: str) -> reports.Report:
    return reports.get_report(db, job, name)


def _key(row: dict) -> tuple:
    at = as_instant(row["created_at"])
    readable = not isinstance(at, Unreadable) and at is not None
    return (readable, at.timestamp() if readable else 0, row["rowid"])


def _plant_odd_times(db: Database) -> None:
    for row_id, at in ODD_TIMES.items():
        execute(
            db,
            "INSERT INTO api_usage (id, user_id, model, input_tokens, output_tokens, "
            "battery_used, cached, date, created_at) "
            "VALUES (:id, :u, 'gpt-4o', 1, 1, 1, 0, '2025-11-24', :at)",
            id=row_id,
            u=USER,
            at=at,
        )


def test_the_usage_list_pages_to_the_end_in_instant_order_with_none_lost(
    omnichat: Database,
) -> None:
    _plant_odd_times(omnichat)
    every = rows(omnichat, "SELECT rowid, id, created_at FROM api_usage")
    expected = [r["id"] for r in sorted(every, key=_key, reverse=True)]
    listing, seen, after = report(omnichat, "usage", "recent"), [], None
    while True:
        page = reports.read(omnichat, listing, after=after, limit=97)
        seen += [r.id for r in page.rows]
        if page.after is None:
            break
        after = page.after
    assert seen == expected
    mine = [
        r.id for r in reports.read(omnichat, listing, user=USER, day="2025-11-24", limit=50).rows
    ]
    assert mine == ["use_space", "use_offset", "use_epoch_ms", "use_epoch_s", "use_garbled"]


def test_rows_without_an_id_are_paged_once_each(omnichat: Database) -> None:
    """The schema allows a NULL id (TEXT PRIMARY KEY): such rows still page, once each."""
    for _ in range(2):
        execute(
            omnichat,
            "INSERT INTO api_usage (id, user_id, model, battery_used, date, created_at) "
            "VALUES (NULL, :u, 'gpt-4o', 1, '2025-11-24', '2025-11-24T16:00:00Z')",
            u=USER,
        )
    listing, seen, after = report(omnichat, "usage", "recent"), [], None
    while True:
        page = reports.read(omnichat, listing, user=USER, after=after, limit=1)
        seen += [r.id for r in page.rows]
        if page.after is None:
            break
        after = page.after
    expected = rows(omnichat, "SELECT id FROM api_usage WHERE user_id = :u", u=USER)
    assert sorted(map(str, seen)) == sorted(str(r["id"]) for r in expected)
    assert seen.count(None) == 2


def test_the_usage_filters_narrow_and_refuse_what_they_cannot_read(omnichat: Database) -> None:
    listing = report(omnichat, "usage", "recent")
    raw = rows(omnichat, "SELECT id, user_id, model, date FROM api_usage")
    found = reports.read(omnichat, listing, model="gpt-4o", limit=10_000).rows
    assert {r.id for r in found} == {r["id"] for r in raw if r["model"] == "gpt-4o"}
    [email] = [r["email"] for r in rows(omnichat, "SELECT email FROM users WHERE id = :u", u=USER)]
    by_email = reports.read(omnichat, listing, user=email.upper(), limit=10_000).rows
    assert {r.id for r in by_email} == {r["id"] for r in raw if r["user_id"] == USER}
    for bad, field in ((dict(day="30/11/2026"), "day"), (dict(since=FIXTURE_NOW), "since")):
        with pytest.raises(InputError, match=field):
            reports.read(omnichat, listing, **bad)
    with pytest.raises(InputError, match="is one of recent, top"):
        report(omnichat, "usage", "nope")


def test_top_users_and_battery_by_model_add_up_as_the_rows_do(omnichat: Database) -> None:
    raw = rows(omnichat, "SELECT user_id, model, date, battery_used FROM api_usage")
    since = datetime(2026, 5, 20, tzinfo=FIXTURE_NOW.tzinfo)
    recent = [r for r in raw if r["date"] >= "2026-05-20"]
    used = Counter()
    for r in recent:
        used[r["user_id"]] += r["battery_used"]
    top = reports.read(omnichat, report(omnichat, "usage", "top"), since=since, limit=5).rows
    assert [(r.user_id, r.battery_used) for r in top] == sorted(
        used.items(), key=lambda kv: (-kv[1], kv[0])
    )[:5]
    per_day = defaultdict(int)
    for r in recent:
        per_day[r["date"], r["model"]] += r["battery_used"]
    by_model = reports.read(omnichat, report(omnichat, "usage", "by-model"), since=since).rows
    assert {(r.day, r.model): r.battery_used for r in by_model} == per_day
    assert [r.day for r in by_model] == sorted((r.day for r in by_model), reverse=True)


def test_the_summary_check_finds_each_day_that_does_not_add_up(omnichat: Database) -> None:
    """The demo makes every 23rd user's first day 3 battery too high; a summary of a day with
    no usage at all is found too, its usage side empty."""
    execute(
        omnichat,
        "INSERT INTO daily_usage_summary (id, user_id, date, total_battery_used, total_messages) "
        "VALUES ('day_ghost', :u, '2020-01-01', 5, 1)",
        u=USER,
    )
    used, answers = Counter(), Counter()
    for r in rows(omnichat, "SELECT user_id, date, battery_used FROM api_usage"):
        used[r["user_id"], r["date"]] += r["battery_used"]
        answers[r["user_id"], r["date"]] += 1
    summed = {
        (r["user_id"], r["date"]): (r["total_battery_used"], r["total_messages"])
        for r in rows(omnichat, "SELECT * FROM daily_usage_summary")
    }
    wrong = {
        key
        for key in set(used) | set(summed)
        if summed.get(key) != ((used[key], answers[key]) if key in used else None)
    }
    check = report(omnichat, "usage", "summary-check")
    found = reports.read(omnichat, check, limit=10_000)
    assert {(r.user_id, r.day) for r in found.rows} == wrong and found.found == len(wrong)
    [ghost] = [r for r in found.rows if r.day == "2020-01-01"]
    assert (ghost.summary_battery, ghost.usage_battery, ghost.usage_answers) == (5, None, None)
    assert reports.read(omnichat, check, limit=2).found == len(wrong)


def test_the_ledger_by_month_reads_each_time_as_its_instant(omnichat: Database) -> None:
    execute(
        omnichat,
        "INSERT INTO battery_transactions (id, user_id, type, amount, created_at) VALUES "
        "('btx_tz', :u, 'bonus', 7, '2026-03-01T00:30:00+02:00'), "  # February in UTC
        "('btx_ms', :u, 'bonus', 11, '1772323200000')",  # 2026-03-01 00:00 UTC
        u=USER,
    )
    expected: Counter = Counter()
    for r in rows(omnichat, "SELECT type, amount, created_at FROM battery_transactions"):
        at = as_instant(r["created_at"])
        month = None if at is None or isinstance(at, Unreadable) else f"{at:%Y-%m}"
        expected[month, r["type"]] += r["amount"]
    found = reports.read(omnichat, report(omnichat, "money", "by-month"), limit=10_000).rows
    assert {(r.month, r.type): r.battery for r in found} == dict(expected)


def test_mrr_is_exact_money_from_plan_cents_and_exports_as_such(omnichat: Database, capsys) -> None:
    plans = {
        r["id"]: r["price_monthly"] for r in rows(omnichat, "SELECT * FROM subscription_plans")
    }
    subs = rows(omnichat, "SELECT status, plan_id FROM user_subscriptions")
    cents = sum(plans[s["plan_id"]] for s in subs if s["status"] in ("active", "past_due"))
    mrr = Decimal(cents).scaleb(-2)
    found = reports.read(omnichat, report(omnichat, "money", "subscriptions"))
    assert found.total == mrr and isinstance(found.total, Decimal)
    cut = reports.read(omnichat, report(omnichat, "money", "subscriptions"), limit=2)
    assert cut.total == mrr and cut.more and len(cut.rows) == 2  # all of them, said cut
    assert sum(r.subscriptions for r in found.rows) == len(subs)
    url = str(omnichat.profile.url)
    code, out, err = run(capsys, "--url", url, "money", "subscriptions")
    assert code == 0, err
    assert f"MRR in all: {mrr:,}" in out
    code, out, _ = run(capsys, "--url", url, "money", "subscriptions", "--format", "json")
    exported = json.loads(out)
    assert sum(Decimal(r["mrr"]) for r in exported) == mrr
    code, out, _ = run(capsys, "--url", url, "money", "subscriptions", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert sum(Decimal(r["mrr"]) for r in table) == mrr
    assert all(Decimal(r["monthly_price"]) * 100 in plans.values() for r in table if r["plan_id"])


def test_the_cli_offers_each_report_s_own_filters_and_only_where_the_product_has_them(
    omnichat: Database, capsys
) -> None:
    url = str(omnichat.profile.url)
    code, out, err = run(
        capsys, "--url", url, "usage", "recent", "--model", "gpt-4o", "--limit", "3"
    )
    assert code == 0 and out.count("gpt-4o") == 3 and "more match" in err
    code, out, err = run(capsys, "--url", url, "usage", "by-model", "--limit", "2")
    assert code == 0 and "by-model: 2 shown, more match" in err
    code, _, err = run(capsys, "--url", url, "usage", "top", "--day", "2026-05-30")
    assert code != 0 and "--day" in err
    code, _, err = run(capsys, "--url", url, "usage", "recent", "--day", "tuesday")
    assert code == 1 and "date like" in err
    code, _, err = run(capsys, "--product", "filepath", "--url", url, "money", "by-month")
    assert code != 0 and "money" in err


async def opened(pilot, job: str) -> ReportsScreen:
    """The job's reports screen, opened from the home screen once it is up."""
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.query("#results"))
    app.open_reports(job)
    await wait_until(
        pilot, lambda: isinstance(app.screen, ReportsScreen) and app.screen.query(PagedTable)
    )
    return app.screen


async def test_the_usage_screen_shows_each_report_and_its_filters_narrow_it(
    omnichat: Database,
) -> None:
    app = AdminApp(omnichat, clock=lambda: FIXTURE_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot, "usage")
        listing = screen.query_one("#list-recent", PagedTable)
        await wait_until(pilot, lambda: listing.row_count > 0)
        first = reports.read(omnichat, report(omnichat, "usage", "recent")).rows
        assert [row["id"] for row in listing.loaded.values()] == [r.id for r in first]
        screen.query_one("#model-recent", Input).value = "gpt-4o"
        await wait_until(pilot, lambda: {r["model"] for r in listing.loaded.values()} == {"gpt-4o"})
        screen.query_one("#tabs", TabbedContent).active = "tab-by-model"
        chart = screen.query_one("#chart-by-model")
        await wait_until(pilot, lambda: "Battery used per day" in str(chart.render()))
        newest = reports.read(omnichat, report(omnichat, "usage", "by-model")).rows[0]
        assert newest.day in str(chart.render())
        screen.query_one("#tabs", TabbedContent).active = "tab-summary-check"
        check = screen.query_one("#list-summary-check", PagedTable)
        await wait_until(pilot, lambda: check.row_count > 0)
        status = str(screen.query_one("#status-summary-check").render())
        assert "Enter opens the user" in status
        check.focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, UserDetailScreen))


@pytest.mark.parametrize(
    ("product", "job", "title"),
    [("omnichat", "money", "Money"), ("omnichat", "health", "Ledger health"),
     ("filepath", "health", "Budgets")],
)  # fmt: skip
async def test_the_money_screen_and_the_health_screens_are_in_the_palette(
    product: str, job: str, title: str, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue(f"{product}_file")  # (other screens' tests cover the API)
    app = AdminApp(db, clock=lambda: FIXTURE_NOW)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        assert title in [c.title for c in app.get_system_commands(app.screen)]
        await opened(pilot, job)
        first = db.pack.reports_of(job)[0]
        table = app.screen.query_one(f"#list-{first.name}", PagedTable)
        expected = reports.read(db, first, now=FIXTURE_NOW)
        line = app.screen.query_one(f"#status-{first.name}")
        await wait_until(
            pilot,
            lambda: (
                table.row_count == len(expected.rows) > 0 and "Reading" not in str(line.render())
            ),
        )
        status = str(line.render())
        assert first.title in status
        if first.total:
            assert f"MRR in all: {expected.total:,}" in status


async def test_filters_typed_in_two_tabs_at_once_both_apply(omnichat: Database) -> None:
    app = AdminApp(omnichat, clock=lambda: FIXTURE_NOW)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await opened(pilot, "usage")
        recent, top = (screen.query_one(f"#list-{n}", PagedTable) for n in ("recent", "top"))
        await wait_until(pilot, lambda: recent.row_count > 0 and top.row_count > 0)
        screen.query_one("#model-recent", Input).value = "gpt-4o"
        await pilot.pause(0.1)
        screen.query_one("#since-top", Input).value = "2026-05-31"
        expected = reports.read(
            omnichat, report(omnichat, "usage", "top"), since=datetime(2026, 5, 31, tzinfo=UTC)
        ).rows
        await wait_until(
            pilot,
            lambda: (
                {r["model"] for r in recent.loaded.values()} == {"gpt-4o"}
                and [r["user_id"] for r in top.loaded.values()] == [r.user_id for r in expected]
            ),
        )
