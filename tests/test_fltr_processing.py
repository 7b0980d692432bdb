"""fltr's processing history (on-call), from the fltr database: the summary agrees with counts
made here, each list pages through every row newest first (ties on the time included), a
status filter shows only that status, and without the second database it says what it needs;
the CLI and the screen show the same rows."""

from __future__ import annotations

import json

import pytest

from adminui.config import Profile
from adminui.db import Database
from adminui.errors import InputError, SetupError
from adminui.ops import history
from adminui.packs import DATA
from tests.conftest import PG_PASSWORD, run
from tests.test_fltr import _cli_urls, execute, rows_sql

JOBS = "jobs"


def listing(db: Database, name: str):
    return history.get_list(db, name)


def every(db: Database, name: str, choice: str | None = None, limit: int = 7) -> list[str]:
    """Every row's id, a page of `limit` at a time."""
    seen, after = [], None
    while True:
        page = history.page(db, listing(db, name), choice, after=after, limit=limit)
        seen += [str(row.id) for row in page.rows]
        if page.after is None:
            return seen
        after = page.after


def test_the_summary_counts_what_is_there(fltr: Database) -> None:
    data = fltr.on(DATA, "test")
    expected = {
        ("job", status): count
        for status, count in rows_sql(
            data, "SELECT status, COUNT(*) FROM processing_jobs GROUP BY status"
        )
    } | {
        ("document", status): count
        for status, count in rows_sql(
            data, "SELECT status, COUNT(*) FROM documents GROUP BY status"
        )
    }
    found = {(row.kind, row.status): row.count for row in history.summary(fltr)}
    assert found == expected and ("job", "failed") in found
    assert all(row.oldest <= row.newest for row in history.summary(fltr))


@pytest.mark.parametrize("choice", [None, "failed", "queued"])
def test_the_jobs_page_through_every_row_newest_first(fltr: Database, choice: str | None) -> None:
    """Three jobs planted at one second: the pages still hold each job once, in order."""
    data = fltr.on(DATA, "test")
    [[document]] = rows_sql(data, "SELECT id FROM documents ORDER BY id LIMIT 1")
    execute(
        data,
        *(
            "INSERT INTO processing_jobs (id, document_id, status, created_at, updated_at) VALUES "
            f"('d0000000-0000-4000-8000-00000000000{i}', '{document}', 'queued', "
            "'2026-11-30 12:00:00', '2026-11-30 12:00:00')"
            for i in range(3)
        ),
    )
    where = f"WHERE status = '{choice}'" if choice else ""
    expected = [
        str(i)
        for (i,) in rows_sql(
            data, f"SELECT id FROM processing_jobs {where} ORDER BY created_at DESC, id DESC"
        )
    ]
    assert every(fltr, JOBS, choice) == expected and len(expected) > 3


def test_failed_documents_are_those_failed(fltr: Database) -> None:
    data = fltr.on(DATA, "test")
    expected = [
        str(i)
        for (i,) in rows_sql(
            data,
            "SELECT id FROM documents WHERE status = 'failed' ORDER BY created_at DESC, id DESC",
        )
    ]
    assert every(fltr, "failed") == expected and expected
    first = history.page(fltr, listing(fltr, "failed"), limit=1).rows[0]
    assert first.jobs >= 1 and first.last_job_status


def test_a_status_it_does_not_have_is_refused(fltr: Database) -> None:
    with pytest.raises(InputError, match="one of queued, running"):
        history.page(fltr, listing(fltr, JOBS), "done'; --")


def test_without_the_fltr_database_it_says_what_it_needs(fltr: Database) -> None:
    password = PG_PASSWORD if fltr.dialect == "postgresql" else None
    alone = Database(Profile(name="fltr", url=fltr.profile.url), password, pack=fltr.pack)
    try:
        with pytest.raises(SetupError, match="fltr database"):
            history.summary(alone)
    finally:
        alone.dispose()


def test_the_cli_lists_what_the_op_reads(fltr: Database, capsys) -> None:
    code, out, err = run(
        capsys, *_cli_urls(fltr), "processing", "jobs", "--status", "failed", "--format", "json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [r["id"] for r in rows] == every(fltr, JOBS, "failed")[:100]
    assert {r["status"] for r in rows} == {"failed"}
    code, out, _ = run(capsys, *_cli_urls(fltr), "processing", "summary", "--format", "json")
    assert code == 0 and {r["kind"] for r in json.loads(out)} == {"job", "document"}


async def test_the_screen_shows_each_list_and_filters_by_status(fltr: Database) -> None:
    from textual.widgets import TabbedContent

    from adminui.tui.app import AdminApp
    from adminui.tui.paged_table import PagedTable
    from adminui.tui.processing import ProcessingScreen
    from tests.test_tui import wait_until

    app = AdminApp(fltr)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query("#results"))
        app.open_processing()
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ProcessingScreen) and app.screen.query("#list-jobs"),
        )
        screen = app.screen
        summary = screen.query_one("#summary-table")
        await wait_until(pilot, lambda: summary.row_count == len(history.summary(fltr)))
        jobs = screen.query_one("#list-jobs", PagedTable)
        await wait_until(pilot, lambda: jobs.row_count > 0)
        assert list(jobs.loaded)[:5] == every(fltr, JOBS, limit=100)[:5]
        screen.query_one("#tabs", TabbedContent).active = "tab-jobs"
        await pilot.press("s")  # the first status: queued
        queued = every(fltr, JOBS, "queued", limit=100)
        await wait_until(pilot, lambda: list(jobs.loaded) == queued)
        status = str(screen.query_one("#status-jobs").render())
        assert "status queued" in status
