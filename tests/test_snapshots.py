"""Every screen as a picture, at 80x24 and 200x60 (issue 14.11): a layout that breaks at one
size fails here. The pictures are SVGs under tests/__snapshots__/ (reviewed by eye when made);
after a deliberate change of a screen, `python -m pytest tests/test_snapshots.py
--snapshot-update` makes them again, and the diff of the SVGs is reviewed like code.

The app runs on the fixture data (SQLite), with its clock fixed at the fixture's time, so a
picture holds no moving part ("this month", "last 24 hours", a file path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from adminui.db import Database
from adminui.ops import credits, users
from adminui.tui.app import AdminApp
from tests.conftest import FIXTURE_NOW, fltr_files, scalar
from tests.orphan_rows import change

SIZES = {"80x24": (80, 24), "200x60": (200, 60)}


def opening(db: Database) -> dict[str, Callable[[AdminApp], object]]:
    """How each screen is opened, from the home screen."""
    user = users.recent_users(db, 1).rows[0]
    failed = str(
        scalar(db, "SELECT id FROM executions WHERE status = 'failed' ORDER BY id LIMIT 1")
    )

    def execution(app: AdminApp) -> None:
        from adminui.tui.execution_detail import ExecutionDetailScreen

        app.push_screen(ExecutionDetailScreen(failed))

    def schema(app: AdminApp) -> None:
        change(db, "DROP INDEX idx_ideas_priority")  # two kinds of drift to show
        change(db, "ALTER TABLE users ADD COLUMN credits INTEGER NOT NULL DEFAULT 0")
        app.open_schema()

    assert credits.pending_receipts(db)
    return {
        "lookup": lambda app: None,
        "user": lambda app: app.open_user(user.id),
        "grant": lambda app: app.open_grant(user.email),
        "pending": lambda app: app.open_pending(),
        "payments": lambda app: app.open_payments(),
        "executions": lambda app: app.open_executions(),
        "execution": execution,
        "orphans": lambda app: app.open_orphans(),
        "schema": schema,
    }


async def settled(pilot: Pilot) -> None:
    """Until every worker (database work) is done and the screen has drawn what came back: the
    same picture twice in a row, so a late message or a table fitting its columns after a refresh
    is in it (a busy machine can take longer than any fixed pause)."""
    app = pilot.app
    drawn = None
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        busy = app.db.running  # type: ignore[attr-defined]
        if not busy and all(worker.is_finished for worker in app.workers):
            app.refresh_bindings()  # the footer's Esc, as of now (it may lag a worker's end)
            for field in app.screen.query(Input):
                field.cursor_blink = False  # a blinking cursor is never the same twice
            await pilot.pause()
            picture = app.export_screenshot()
            if picture == drawn:
                return
            drawn = picture
    raise AssertionError("the screen never settled")


def opened(
    app: AdminApp, open_screen: Callable[[AdminApp], object]
) -> Callable[[Pilot], Awaitable[None]]:
    """What the snapshot runs first: the home screen settled, then the screen opened and
    settled (twice: what the first answers set off, a table fitting its rows)."""

    async def run_before(pilot: Pilot) -> None:
        app.sub_title = "test · the fixture database"  # its file's path differs per run
        await settled(pilot)
        open_screen(app)
        await settled(pilot)
        await pilot.wait_for_scheduled_animations()
        await settled(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "screen",
    [
        "lookup",
        "user",
        "grant",
        "pending",
        "payments",
        "executions",
        "execution",
        "orphans",
        "schema",
    ],
)
def test_every_screen_at_both_sizes(snap_compare, sqlite_db: Database, screen: str, size: str):
    app = AdminApp(sqlite_db, clock=lambda: FIXTURE_NOW)
    before = opened(app, opening(sqlite_db)[screen])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before)


# fltr's screens (its demo data at the fixture's time): the same screens, another product.
FLTR_SCREENS = {
    "lookup": lambda app: None,
    "user": lambda app: app.open_user("usr_50"),
    "grant": lambda app: app.open_grant("usr_50"),
    "processing": lambda app: app.open_processing(),
    "ledger": lambda app: app.open_ledger(),
    "orphans": lambda app: app.open_orphans(),
}


@pytest.fixture
def fltr_sqlite(fltr_sqlite_template, tmp_path):
    yield from fltr_files(fltr_sqlite_template, tmp_path)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", FLTR_SCREENS)
def test_fltr_s_screens_at_both_sizes(snap_compare, fltr_sqlite: Database, screen: str, size: str):
    app = AdminApp(fltr_sqlite, clock=lambda: FIXTURE_NOW)
    before = opened(app, FLTR_SCREENS[screen])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before)


# The D1 products' (SQLite only), on their demo data at the fixture's time: their times were
# written in several forms, and the screens show them as one.
D1_SCREENS = {
    (pack, screen): opening
    for pack, user in (("omnichat", "user_2N000003"), ("filepath", "fp_usr_42"))
    for screen, opening in {
        "lookup": lambda app: None,
        "user": lambda app, user=user: app.open_user(user),
        "orphans": lambda app: app.open_orphans(),
        "schema": lambda app: app.open_schema(),  # OmniChat's: a gap in its migrations
    }.items()
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("pack", "screen"), D1_SCREENS)
def test_d1_products_screens_at_both_sizes(
    snap_compare, request, pack: str, screen: str, size: str
):
    app = AdminApp(request.getfixturevalue(f"{pack}_file"), clock=lambda: FIXTURE_NOW)
    before = opened(app, D1_SCREENS[pack, screen])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=before)
