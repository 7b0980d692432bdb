"""The orphan screens driven with Pilot: the scan, one check's rows, the clean (backup path,
typed count, a second confirmation for receipts), read-only profiles, and the DDL view."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static, TextArea

from adminui.db import Database
from adminui.ops import orphans
from adminui.tui.app import AdminApp
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen
from adminui.tui.orphans import OrphanCheckScreen, OrphansScreen, TypeCountScreen
from adminui.tui.paged_table import PagedTable
from tests.conftest import scalar, with_registry
from tests.orphan_rows import change, plant, table_rows
from tests.test_orphan_dependents import a_post_on
from tests.test_tui import shown, wait_until


async def open_orphans(app: AdminApp, pilot) -> OrphansScreen:
    await wait_until(pilot, lambda: app.screen.query("#results"))
    app.open_orphans()
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, OrphansScreen)
            and any(t.row_count for t in app.screen.query("#counts").results(DataTable))
        ),
    )
    return app.screen  # type: ignore[return-value]


async def open_check(app: AdminApp, pilot, name: str) -> OrphanCheckScreen:
    screen = await open_orphans(app, pilot)
    table = screen.query_one("#counts", DataTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, OrphanCheckScreen)
            and any(t.row_count for t in app.screen.query("#rows").results(PagedTable))
            and app.screen.count > 0
        ),
    )
    return app.screen  # type: ignore[return-value]


async def back_up(app: AdminApp, pilot, path: Path) -> None:
    """Press c, give the backup path, and wait for the backup to be written and the count asked."""
    await pilot.press("c")
    await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen))
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, TypeCountScreen))


def status(screen) -> str:
    return shown(screen.query_one("#status", Static))


def counts_shown(screen: OrphansScreen) -> dict[str, str]:
    """Each check's name -> what its Orphans cell shows."""
    table = screen.query_one("#counts", DataTable)
    return {
        str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)
    }


async def test_the_scan_shows_every_checks_count(db: Database) -> None:
    plant(db, "ideas.user_id", 2)
    plant(db, "outputs.idea_id", 3)
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_orphans(app, pilot)
        counts = counts_shown(screen)
        assert counts["ideas.user_id"] == "2" and counts["outputs.idea_id"] == "3"
        assert counts["credentials.user_id"] == "0"
        assert "orphan rows in" in status(screen)


async def test_checks_a_key_enforces_show_as_such_until_f_counts_them(pg_db: Database) -> None:
    app = AdminApp(pg_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_orphans(app, pilot)
        quick = counts_shown(screen)
        assert [n for n, shown_count in quick.items() if shown_count != "by key"] == [
            "users.usage_tracking"
        ]
        not_counted = len(orphans.checks()) - 1
        assert f"The other {not_counted} ('by key') were not counted" in status(screen)
        await pilot.press("f")
        await wait_until(pilot, lambda: "by key" not in counts_shown(screen).values())
        assert counts_shown(screen)["ideas.user_id"] == "0"
        assert "by key" not in status(screen)


async def test_clean_backs_up_asks_for_the_count_and_deletes(db: Database, tmp_path: Path) -> None:
    ids = plant(db, "ideas.user_id", 2)
    before = len(table_rows(db, "ideas"))
    backup = tmp_path / "ideas.jsonl"
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, "ideas.user_id")
        assert set(screen.query_one("#rows", PagedTable).loaded) == set(ids)
        await back_up(app, pilot, backup)
        assert backup.exists()
        await pilot.press("3", "enter")  # the wrong count does nothing
        assert isinstance(app.screen, TypeCountScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press("2", "enter")
        await wait_until(pilot, lambda: "Done: 2 rows" in status(screen))
        await wait_until(pilot, lambda: "No rows left" in status(screen))
    assert len(table_rows(db, "ideas")) == before - 2


async def test_escape_at_the_count_changes_nothing(db: Database, tmp_path: Path) -> None:
    plant(db, "ideas.user_id", 2)
    before = table_rows(db, "ideas")
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, "ideas.user_id")
        await back_up(app, pilot, tmp_path / "b.jsonl")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Cancelled; nothing was changed" in status(screen))
    assert table_rows(db, "ideas") == before


async def test_receipts_need_the_second_confirmation(db: Database, tmp_path: Path) -> None:
    plant(db, "payment_receipts.user_id", 1)
    before = table_rows(db, "payment_receipts")
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, "payment_receipts.user_id")
        assert "money records" in shown(screen.query_one("#warning", Static))
        await back_up(app, pilot, tmp_path / "r.jsonl")
        await pilot.press("1", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # not enough: only the button deletes receipts
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#cancel")
        await wait_until(pilot, lambda: "Cancelled" in status(screen))
        assert table_rows(db, "payment_receipts") == before
        await back_up(app, pilot, tmp_path / "r2.jsonl")
        await pilot.press("1", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: "Done: 1 row " in status(screen))
    assert len(table_rows(db, "payment_receipts")) == len(before) - 1


async def test_a_clean_that_would_change_other_rows_names_them_and_keeps_no_backup(
    db: Database, tmp_path: Path
) -> None:
    plant(db, "executions.user_id", 1)
    plant(db, "outputs.execution_id", 1)  # an output pointing at a missing execution…
    change(  # …and one pointing at the orphan execution, which a delete would cascade to
        db,
        "UPDATE outputs SET execution_id = (SELECT id FROM executions "
        "WHERE error_step = 'orphaned') WHERE format = 'blog_post' "
        "AND execution_id NOT IN (SELECT id FROM executions)",
    )
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, "executions.user_id")
        await pilot.press("c")  # they are named before a backup path is asked for
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        offer = str(app.screen.query_one("#question", Static).render())
        assert "1 outputs row (outputs.execution_id, deleted with them" in offer
        await pilot.click("#cancel")
        await wait_until(pilot, lambda: "no backup kept" in status(screen))
    assert not (tmp_path / "e.jsonl").exists()


async def test_the_rows_a_delete_would_change_can_be_included_and_go_with_it(
    db: Database, tmp_path: Path
) -> None:
    """The seed-003 clean that could never finish: a kept blog post on an orphan output."""
    [output] = plant(db, "outputs.execution_id", 1)
    post = a_post_on(db, output)
    backup = tmp_path / "o.jsonl"
    app = AdminApp(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, "outputs.execution_id")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")  # the offer needs its button: `y` does nothing
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen))  # then the path
        app.screen.query_one(Input).value = str(backup)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TypeCountScreen))
        assert "and 1 row that point at them" in status(screen)
        await pilot.press("2", "enter")
        await wait_until(pilot, lambda: "and 1 row that pointed at them" in status(screen))
    remaining = "SELECT COUNT(*) FROM {} WHERE id = :i"
    assert scalar(db, remaining.format("outputs"), i=output) == 0
    assert scalar(db, remaining.format("blog_posts"), i=post) == 0
    assert backup.exists()


async def test_a_read_only_profile_cannot_start_a_clean(db: Database) -> None:
    plant(db, "ideas.user_id", 1)
    reader = with_registry(db, db.registry, read_only=True)
    before = table_rows(db, "ideas")
    app = AdminApp(reader)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_check(app, pilot, "ideas.user_id")
        await wait_until(pilot, lambda: "no clean here" in status(screen))  # not "c cleans"
        assert "c cleans them" not in status(screen)
        await pilot.press("c")  # dimmed: it says why, once, where the person looks
        await pilot.pause(0.1)
        assert isinstance(app.screen, OrphanCheckScreen)
        told = [str(n.message) for n in app._notifications]
        assert len(told) == 1 and "read-only (read_only = true)" in told[0]
        await pilot.press("c")
        await pilot.pause(0.1)
        assert len(list(app._notifications)) == 1  # once
    assert table_rows(db, "ideas") == before


async def test_the_schema_tab_shows_each_difference_and_the_fix_under_the_cursor(
    sqlite_db: Database,
) -> None:
    change(sqlite_db, "DROP INDEX idx_ideas_priority")
    change(sqlite_db, "ALTER TABLE users ADD COLUMN credits INTEGER")
    app = AdminApp(sqlite_db)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_orphans(app, pilot)
        await pilot.press("k")
        ddl = screen.query_one("#ddl", TextArea)
        await wait_until(pilot, lambda: "CREATE INDEX" in ddl.text)
        assert ddl.text.endswith("CREATE INDEX idx_ideas_priority ON ideas (priority_score DESC);")
        assert "2 differences" in shown(screen.query_one("#schema-status", Static))
        await pilot.press("down")
        await wait_until(pilot, lambda: "DROP COLUMN credits" in ddl.text)


async def test_the_recommended_indexes_are_their_own_list(pg_db: Database) -> None:
    change(pg_db, "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey")
    app = AdminApp(pg_db)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await open_orphans(app, pilot)
        await pilot.press("k")
        await wait_until(pilot, lambda: screen.report is not None)
        # The fixture runs without Supabase's row-level security: those come first.
        kinds = [f.kind for f in screen.report.findings]
        assert set(kinds) == {"missing_fk", "rls_disabled", "missing_policy"}
        screen.query_one("#drift", DataTable).move_cursor(row=kinds.index("missing_fk"))
        ddl = screen.query_one("#ddl", TextArea)
        await wait_until(pilot, lambda: "ADD CONSTRAINT" in ddl.text)
        assert "ALTER TABLE ideas ADD CONSTRAINT ideas_user_id_fkey" in ddl.text
        await pilot.press("i")
        advice = screen.query_one("#index-ddl", TextArea).text
        assert "CREATE INDEX executions_started_at_id" in advice
        assert "recommended indexes missing" in shown(screen.query_one("#advice-status", Static))
        assert app.focused is not None and app.focused.id == "indexes"
