"""Orphan-row cleanup: scan every relation (with progress, cancellable), preview one check's rows
page by page, and clean them the safe way: back up, type the row count, one transaction; plus
the schema check (every difference from the product's schema: a missing foreign key is what
lets orphans in) and the recommended indexes, as DDL to copy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import Worker, get_current_worker

from adminui.ops import backups, orphans, schema_check
from adminui.ops.values import as_bool, counted
from adminui.tui.cells import cell, failure
from adminui.tui.dialogs import ConfirmScreen, Dialog, ReasonScreen
from adminui.tui.paged_table import PagedTable
from adminui.tui.steady_table import SteadyTable

if TYPE_CHECKING:
    from adminui.db import Database
    from adminui.tui.app import AdminApp

PAGE = 200
YES_NO = ("published", "is_public", "is_active")


class AdminScreen(Screen[None]):
    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def progress(self, done: int, total: int) -> None:
        """Called by ops from a worker thread; post_message is thread-safe."""
        self.post_message(Progress(done, total))


@dataclass
class Progress(Message):
    """How far a scan, backup or clean has got (posted from its worker thread)."""

    done: int
    total: int


class OrphansScreen(AdminScreen):
    """Every check's count (`s` scans again, `f` also counts what foreign keys enforce; Esc
    stops a scan); Enter opens a check. The Schema tab lists every difference from the
    product's schema with the fix of the one under the cursor; the last tab, the recommended
    indexes."""

    CSS_PATH = "orphans.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back / stop"),
        Binding("s", "scan", "Scan again"),
        Binding("f", "scan(True)", "Full scan"),
        Binding("k", "show_tab('schema')", "Schema"),
        Binding("i", "show_tab('advice')", "Indexes"),
        Binding("o", "show_tab('checks')", "Orphans"),
        Binding("c", "check_schema", "Check schema"),
    ]
    TABLES = {"checks": "#counts", "schema": "#drift", "advice": "#indexes"}
    full = False  # whether the last scan counted the checks a foreign key enforces too
    report: schema_check.SchemaReport | None = None

    def __init__(self, tab: str = "checks") -> None:
        super().__init__()
        self.tab = tab  # the tab it opens on

    @dataclass
    class Scanned(Message):
        counts: tuple[orphans.CheckCount, ...]
        error: str | None = None

    @dataclass
    class Checked(Message):
        report: schema_check.SchemaReport | None
        error: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=self.tab):
            with TabPane("Orphan rows", id="checks"):
                yield Static("Scanning…", id="status")
                yield ProgressBar(id="progress", show_eta=False)
                yield SteadyTable(id="counts", cursor_type="row", zebra_stripes=True)
            with TabPane("Schema", id="schema"):
                yield Static("Reading the catalog…", id="schema-status")
                yield SteadyTable(id="drift", cursor_type="row", zebra_stripes=True)
                yield TextArea("", id="ddl", read_only=True, soft_wrap=True)
            with TabPane("Recommended indexes", id="advice"):
                yield Static("Reading the catalog…", id="advice-status")
                yield SteadyTable(id="indexes", cursor_type="row", zebra_stripes=True)
                yield TextArea("", id="index-ddl", read_only=True, soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "orphan rows"
        columns = {
            "#counts": ("Check", "Orphans", "Action", "What it finds"),
            "#drift": ("Kind", "Object", "Actual", "Expected")
            + (("Database",) if len(self.admin.db.pack.databases) > 1 else ()),
            "#indexes": ("Table", "Index", "Present"),
        }
        for table_id, labels in columns.items():
            table = self.query_one(table_id, DataTable)
            for label in labels:
                table.add_column(label, key=label)
        self.action_scan()
        self.action_check_schema()
        self.query_one(self.TABLES[self.tab], DataTable).focus()

    def action_show_tab(self, tab: str) -> None:
        """Switch tabs, and put the focus on the tab's table (else nothing has it until Tab
        is pressed twice)."""
        self.query_one(TabbedContent).active = tab
        self.query_one(self.TABLES[tab], DataTable).focus()

    def action_scan(self, full: bool = False) -> None:
        """Count every check again (off the UI thread); `full`: also those a key enforces."""
        self.full = full
        self.query_one("#status", Static).update("Scanning…")
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=len(orphans.checks(self.admin.db.pack)), progress=0)
        bar.display = True
        self.scan(full)

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan")
    def scan(self, full: bool) -> None:
        worker = get_current_worker()
        try:
            counts = orphans.scan(
                self.admin.db, self.progress, lambda: worker.is_cancelled, full=full
            )
            message = self.Scanned(counts)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Scanned((), failure(error))
        if not worker.is_cancelled:
            self.post_message(message)

    def on_progress(self, message: Progress) -> None:
        self.query_one("#progress", ProgressBar).update(total=message.total, progress=message.done)
        self.query_one("#status", Static).update(
            f"Scanning… {message.done} of {message.total} checks"
        )

    def on_orphans_screen_scanned(self, message: Scanned) -> None:
        status = self.query_one("#status", Static)
        if message.error:
            status.update(Text(message.error))
            return
        table = self.query_one("#counts", DataTable)
        table.clear()
        self.query_one("#progress", ProgressBar).display = False
        for found in message.counts:
            check = found.check
            if found.enforced_by:
                count = Text("by key", justify="right", style="dim italic")
            else:
                style = "bold" if found.count else ""
                count = Text(f"{found.count:,}", justify="right", style=style)
            table.add_row(
                cell(check.name), count, cell(check.action), cell(check.finds), key=check.name
            )
        total = sum(c.count or 0 for c in message.counts)
        dirty = sum(1 for c in message.counts if c.count)
        enforced = sum(1 for c in message.counts if c.enforced_by)
        counted = len(message.counts) - enforced
        summary = (
            f"{total:,} orphan rows in {dirty} of {counted} checks counted. Enter opens a check; "
            "checks are listed children first, the order to clean them in."
            if total
            else f"No orphan rows in the {counted} checks counted."
        )
        by_key = (
            f" The other {enforced} ('by key') were not counted: a validated foreign key keeps "
            "their orphans out. f counts them too."
            if enforced
            else ""
        )
        status.update(summary + by_key)
        if self.query_one(TabbedContent).active == "checks":
            table.focus()

    def action_check_schema(self) -> None:
        self.query_one("#schema-status", Static).update("Reading the catalog…")
        self.check_schema()

    @work(thread=True, exclusive=True, exit_on_error=False, group="schema")
    def check_schema(self) -> None:
        try:
            message = self.Checked(schema_check.check(self.admin.db))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Checked(None, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_orphans_screen_checked(self, message: Checked) -> None:
        status = self.query_one("#schema-status", Static)
        self.report = report = message.report
        if report is None:
            status.update(Text(message.error or ""))
            return
        table = self.query_one("#drift", DataTable)
        table.clear()
        two = len(self.admin.db.pack.databases) > 1
        for number, finding in enumerate(report.findings):
            cells = [
                Text(finding.kind, style="bold red"),
                cell(finding.object),
                cell(finding.actual),  # the short one first: a narrow screen still shows it
                cell(finding.expected),
            ]
            table.add_row(*cells, *([cell(finding.database)] if two else []), key=str(number))
        kinds = sorted({f.kind for f in report.findings})
        unchecked = "".join(f" Not checked: {why}" for why in report.unchecked)
        status.update(
            Text(
                (
                    f"{len(report.findings)} differences from the product's schema "
                    f"({', '.join(kinds)}). The fix of the row under the cursor is below; "
                    "adminui shows it, never runs it."
                    if report.findings
                    else "No drift: the schema is the product's."
                )
                + unchecked
            )
        )
        self.show_fix(0)
        self.show_advice(report)

    def show_fix(self, row: int) -> None:
        findings = self.report.findings if self.report else ()
        self.query_one("#ddl", TextArea).text = (
            f"-- {findings[row].kind} {findings[row].object}\n{findings[row].fix}"
            if row < len(findings)
            else "-- Nothing to fix."
        )

    def show_advice(self, report: schema_check.SchemaReport) -> None:
        table = self.query_one("#indexes", DataTable)
        table.clear()
        for number, advice in enumerate(report.advice):
            present = Text(
                "yes" if advice.present else "missing", style="" if advice.present else "bold"
            )
            table.add_row(
                cell(advice.advice.table), cell(advice.advice.definition), present, key=str(number)
            )
        missing = [i for i in report.advice if not i.present]
        self.query_one("#advice-status", Static).update(
            f"{len(missing)} of {len(report.advice)} recommended indexes missing: advice for "
            "adminui's own lists, not part of the product's schema."
            if report.advice
            else "No index is recommended for this product on this database."
        )
        self.query_one("#index-ddl", TextArea).text = (
            "\n\n".join(f"-- {i.advice.why}\n{i.advice.ddl}" for i in missing)
            or "-- Nothing to add."
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "drift":
            self.show_fix(event.cursor_row)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "counts" and event.row_key.value:
            self.app.push_screen(
                OrphanCheckScreen(orphans.get_check(event.row_key.value, self.admin.db.pack))
            )

    def on_screen_resume(self) -> None:
        """Coming back from a check: its count may have changed."""
        if self.query_one("#counts", DataTable).row_count:
            self.action_scan(self.full)

    def action_back(self) -> None:
        """Stop a running scan; otherwise leave."""
        running = [w for w in self.workers if w.group == "scan" and w.is_running]
        if running:
            for worker in running:
                worker.cancel()
            self.query_one("#status", Static).update("Scan stopped; press s to scan again.")
            return
        if len(self.app.screen_stack) > 1:  # the home screen of a product without user lookup
            self.app.pop_screen()


class OrphanCheckScreen(AdminScreen):
    """One check's rows, page by page; `c` cleans them: back up, type the count, one
    transaction (over D1's API, guarded batches). Esc stops a backup or clean in progress (the
    transaction rolls back; over D1, after the batch under way)."""

    CSS_PATH = "orphans.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back / stop"),
        Binding("c", "clean", "Clean…", tooltip="Back up these rows, then act on exactly them"),
        Binding("r", "reload", "Reload"),
    ]

    @dataclass
    class Counted(Message):
        count: int
        error: str | None = None

    @dataclass
    class BackedUp(Message):
        saved: orphans.Backup | None
        error: str | None = None
        dependents: orphans.Dependents | None = None  # why it was refused: to offer them

    @dataclass
    class Blocking(Message):
        """The rows a clean would change besides the orphans (None: the look failed)."""

        found: orphans.Dependents | None
        error: str | None = None

    @dataclass
    class Cleaned(Message):
        result: orphans.CleanResult | None
        error: str | None = None

    def __init__(self, check: orphans.Check) -> None:
        super().__init__()
        self.check = check
        self.count = 0
        self.outcome = ""  # the last clean's result, kept above the count
        self.busy: Worker[None] | None = None
        leading = (check.key,) if check.action == "create" else (check.key, check.column)
        self.columns = leading + orphans.shown_columns(check)

    def compose(self) -> ComposeResult:
        check = self.check
        yield Header()
        with Vertical(id="about"):
            yield Static(Text(f"{check.name}: {check.finds}. Cleaning will {check.does}."))
            if check.money:
                yield Static(
                    f"{check.records_money.capitalize()} are money records: deleting them "
                    "removes the audit trail "
                    "of those payments. Cleaning asks a second time.",
                    id="warning",
                )
            if check.secret:
                yield Static(
                    "Their secret values are not in the backup (adminui never reads them), so "
                    "this backup can't be restored.",
                    id="warning",
                )
            yield Static("Counting…", id="status")
            yield ProgressBar(id="progress", show_eta=False)
        yield PagedTable(self.columns, "rows shown", id="rows", key=self.check.key)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"orphans · {self.check.name}"
        self.query_one("#progress", ProgressBar).display = False
        self.action_reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cleaning shows as unavailable on a read-only profile."""
        if action == "clean" and self.admin.db.known_read_only:
            return None
        return True

    def action_reload(self) -> None:
        """Read the count and the first page again."""
        self.query_one("#rows", PagedTable).restart(self.fetch)
        self.count_rows()

    def fetch(self, after: Any) -> tuple[list[dict[str, Any]], Any]:
        """One page of the check's rows (PagedTable calls it in its worker); yes/no columns
        shown as such (SQLite keeps them as 0 and 1)."""
        page = orphans.preview(self.admin.db, self.check, after, PAGE)
        rows = [row | {c: as_bool(row[c]) for c in YES_NO if c in row} for row in page.rows]
        return rows, page.after

    @work(thread=True, exclusive=True, exit_on_error=False, group="count")
    def count_rows(self) -> None:
        try:
            message = self.Counted(orphans.count(self.admin.db, self.check))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Counted(0, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_orphan_check_screen_counted(self, message: Counted) -> None:
        self.count = message.count
        if message.error:
            self.say(message.error, True)
            return
        db = self.admin.db
        cleans = (
            f"read-only profile ({db.read_only_why}): no clean here"
            if db.known_read_only
            else "c cleans them"
        )
        rows = f"{counted(message.count, 'row')}; {cleans}." if message.count else "No rows left."
        self.say(f"{self.outcome}\n{rows}" if self.outcome else rows)

    def on_paged_table_changed(self, message: PagedTable.Changed) -> None:
        if message.error:
            self.say(message.text, True)

    def say(self, text: str, error: bool = False) -> None:
        self.query_one("#status", Static).update(Text(text, style="bold red" if error else ""))

    def action_clean(self) -> None:
        """Find the rows a clean would change besides the orphans (offered to include), then
        ask where the backup goes and write it (the first step of every clean)."""
        if self.busy is not None:
            return
        if not self.count:
            self.notify("No rows to clean.")
            return
        self.say("Looking for rows that point at these…")
        self.start(self.find_blocking())

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def find_blocking(self) -> None:
        try:
            message = self.Blocking(orphans.blocking(self.admin.db, self.check))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Blocking(None, failure(error))
        self.post_message(message)

    def on_orphan_check_screen_blocking(self, message: Blocking) -> None:
        self.finish()
        if message.found is None:
            self.say(message.error or "Could not look for the rows that point at these.", True)
        elif message.found.total:
            self.offer_dependents(message.found)
        else:
            self.ask_backup_path(include_dependents=False)

    def ask_backup_path(self, *, include_dependents: bool) -> None:
        default = str(backups.default_backup_path(self.check))

        def chosen(path: str | None) -> None:
            if path:
                self.start(self.write_backup(Path(path), include_dependents))

        self.app.push_screen(
            ReasonScreen(
                f"Back up the {counted(self.count, 'row')} to this new file first:", default
            ),
            chosen,
        )

    def start(self, worker: Worker[None]) -> None:
        self.busy = worker
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True

    def finish(self) -> None:
        self.busy = None
        self.query_one("#progress", ProgressBar).display = False

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def write_backup(self, path: Path, include_dependents: bool = False) -> None:
        worker = get_current_worker()
        try:
            saved = backups.backup(
                self.admin.db,
                self.check,
                path,
                self.progress,
                lambda: worker.is_cancelled,
                include_dependents=include_dependents,
            )
            message = self.BackedUp(saved)
        except orphans.DependentsError as refused:  # offered to the operator to include
            message = self.BackedUp(None, str(refused), refused.found)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.BackedUp(None, failure(error))
        self.post_message(message)

    def on_progress(self, message: Progress) -> None:
        self.query_one("#progress", ProgressBar).update(total=message.total, progress=message.done)

    def on_orphan_check_screen_backed_up(self, message: BackedUp) -> None:
        self.finish()
        saved = message.saved
        if message.dependents is not None:  # they appeared since they were looked for
            self.offer_dependents(message.dependents)
            return
        if saved is None:
            self.say(message.error or "The backup failed.", True)
            return
        also = ""
        if saved.dependents:
            also = f" and {counted(saved.rows - len(saved.ids), 'row')} that point at them"
        self.say(f"Backup of {counted(len(saved.ids), 'row')}{also} written to {saved.path}")

        def typed_in(typed: bool | None) -> None:
            if not typed:
                self.say(f"Cancelled; nothing was changed. The backup stays at {saved.path}")
            elif self.check.money:
                self.app.push_screen(
                    ConfirmScreen(
                        f"Delete {len(saved.ids):,} {self.check.records_money}? They are the "
                        "only record of those payments in the database (the backup keeps a copy).",
                        "Delete receipts",
                        quick_yes=False,
                    ),
                    lambda sure: self.start(self.run_clean(saved)) if sure else typed_in(False),
                )
            else:
                self.start(self.run_clean(saved))

        self.app.push_screen(
            TypeCountScreen(saved.rows, self.check, saved.rows - len(saved.ids)), typed_in
        )

    def offer_dependents(self, found: orphans.Dependents) -> None:
        """A delete would change rows that are not orphans: name them, and offer to include
        them in the backup and the clean (or leave it), before anything else is asked."""

        def chosen(include: bool | None) -> None:
            if include:
                self.ask_backup_path(include_dependents=True)
            else:
                self.say("Cancelled; nothing was changed and no backup kept.")

        self.app.push_screen(
            ConfirmScreen(
                f"Deleting these {self.check.table} rows would change rows that are not "
                f"orphans: {found.describe()}.\n\nInclude them? They are backed up in the same "
                f"file, changed {_together(self.admin.db)} and restored with it.",
                "Include them",
                quick_yes=False,
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="write")
    def run_clean(self, saved: orphans.Backup) -> None:
        worker = get_current_worker()
        try:
            result = orphans.clean(
                self.admin.db,
                saved,
                self.admin.config.operator,
                self.progress,
                lambda: worker.is_cancelled,
            )
            message = self.Cleaned(result)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Cleaned(None, failure(error))
        self.post_message(message)

    def on_orphan_check_screen_cleaned(self, message: Cleaned) -> None:
        self.finish()
        result = message.result
        if result is None:
            self.say(message.error or "The clean failed.", True)
            return
        also = ""
        if result.dependents_acted_on:
            also = f", and {counted(result.dependents_acted_on, 'row')} that pointed at them"
        self.outcome = (
            f"Done: {counted(result.acted_on, 'row')} ({self.check.does}){also}. "
            f"Backup: {result.backup}"
        )
        self.say(self.outcome)
        if result.warning:
            self.notify(result.warning, severity="warning", markup=False)
        self.action_reload()

    def action_back(self) -> None:
        """Stop a backup or clean in progress; otherwise leave."""
        if self.busy is not None and self.busy.is_running:
            self.busy.cancel()
            self.say(
                "Stopping… (a clean in progress rolls back)"
                if self.admin.db.holds_transactions
                else "Stopping after the batch under way (each batch is done whole or not at all)"
            )
            return
        self.app.pop_screen()


class TypeCountScreen(Dialog):
    """The operator types the number of rows: a number read, not a reflex Enter."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]
    DEFAULT_CSS = "TypeCountScreen > Vertical { border: thick $error; }"

    def __init__(self, count: int, check: orphans.Check, dependents: int = 0) -> None:
        super().__init__()
        self.count = count
        self.check = check
        self.dependents = dependents  # of the count: rows that point at the check's rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(
                    f"{self.check.name}: {self.check.does}, {counted(self.count, 'row')}"
                    + (
                        f" (of them {self.dependents:,} that point at the others, included)"
                        if self.dependents
                        else ""
                    )
                    + f", in one transaction. Type {self.count} to go on."
                )
            )
            yield Input(placeholder=str(self.count), id="typed")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Clean", id="clean", variant="error")

    def on_input_submitted(self) -> None:
        self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "clean":
            self._finish()
        else:
            self.dismiss(False)

    def _finish(self) -> None:
        typed = self.query_one("#typed", Input).value.strip().replace(",", "")
        if typed != str(self.count):
            self.notify(f"Type {self.count} exactly, or Esc to cancel.", severity="warning")
            return
        self.dismiss(True)


def _together(db: Database) -> str:
    """How a clean changes a row and the rows it takes with it: in one transaction, or (over
    D1's API) in one batch."""
    return "in the same transaction" if db.holds_transactions else "in the same batch"
