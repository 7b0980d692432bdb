"""The adminui application: holds the database and opens the job screens.

Only the home screen is imported up front; each other screen is imported when first opened, so
the first paint doesn't wait for modules it doesn't show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partialmethod
from typing import TYPE_CHECKING

from textual import events
from textual.actions import SkipAction
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from adminui.config import Config
from adminui.tui.user_lookup import UserLookupScreen

if TYPE_CHECKING:
    from adminui.db import Database


# The palette's job screens: the job a pack must offer, the title, what it does, the opener.
JOB_SCREENS = (
    ("users", "User lookup", "Find a user by email, name, id or reference", "action_user_lookup"),
    ("credits", "", "", "open_grant"),  # named by the product's grant form
    (
        "receipts",
        "Pending receipts",
        "Verify or refund receipts waiting for review",
        "open_pending",
    ),
    ("payments", "Payments", "Revenue by status, month and user; every receipt", "open_payments"),
    ("executions", "Executions", "Failed runs, failures by step, stuck runs", "open_executions"),
    ("ledger", "Credit ledger", "Transactions, the balance check, usage", "open_ledger"),
    ("processing", "Processing", "Processing jobs by status; failed documents", "open_processing"),
    ("health", "", "", "open_health"),  # named by the product's health command
    ("usage", "", "", "open_usage"),
    ("money", "", "", "open_money"),
    ("orphans", "Orphan rows", "Rows whose parent is gone; missing foreign keys", "open_orphans"),
    ("orphans", "Schema", "Every difference from the product's schema, and its fix", "open_schema"),
)


class AdminApp(App[None]):
    """One database, one operator; the user lookup is the home screen."""

    TITLE = "adminui"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", tooltip="Leave adminui"),
        Binding("question_mark", "toggle_keys", "Keys", key_display="?", tooltip="Every key here"),
        # Before any screen's own Esc, while a query runs (or the key panel is open): the query
        # is stopped first, on the server too. Otherwise it steps aside (check_action), so the
        # footer shows and Esc does what the screen says (back, clear, close).
        Binding(
            "escape",
            "stop_queries",
            "Stop query",
            priority=True,
            tooltip="Stop the running query (the server is asked to cancel it)",
        ),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    def __init__(
        self,
        db: Database,
        config: Config | None = None,
        *,
        unvetted: tuple[str, ...] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.config = config or Config()
        # What "now" is for the screens' relative views (this month, last 24 hours, stuck):
        # the wall clock, or a fixed one where a picture of a screen must not move (tests).
        self.now = clock or (lambda: datetime.now(UTC))
        self.unvetted = unvetted  # query files that differ from queries/vetted.lock
        self._read_only_said: set[tuple[type, str]] = set()
        self.title = f"adminui · {db.pack.name}"  # which product: the header says it everywhere
        self.sub_title = self._where()

    def _where(self) -> str:
        """The header's second part: the profile, where it points, and read-only once known (a
        role that may only read is learned with the first read, off this thread)."""
        profile = self.db.profile
        mode = " · read-only" if self.db.known_read_only else ""
        warning = "UNVETTED QUERIES · " if self.unvetted else ""  # first: a narrow header cuts
        return f"{warning}{profile.name} · {profile.shown_url}{mode}"

    def on_mount(self) -> None:
        """Started with --allow-unvetted and a query file differs: say so, and keep saying it."""
        if self.unvetted:
            self.notify(
                f"Running unvetted queries: {'; '.join(self.unvetted)}.",
                title="Not the reviewed SQL",
                severity="error",
                timeout=30,
                markup=False,
            )

    def get_default_screen(self) -> Screen:
        """Open on the user lookup, so the first paint already shows users; a product without
        that job opens on its first job's screen."""
        if "users" in self.db.pack.jobs:
            return UserLookupScreen()
        from adminui.tui.orphans import OrphansScreen

        return OrphansScreen()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette lists every job screen of the product's pack."""
        yield from super().get_system_commands(screen)
        from adminui.tui.grant_forms import form_for  # the palette opens long after first paint

        for job, title, help_text, method in JOB_SCREENS:
            if job in self.db.pack.jobs:
                if job == "credits":
                    form = form_for(self.db.pack)
                    title, help_text = f"{form.verb} {form.what}", form.summary
                elif not title:
                    from adminui.tui.reports import screen_title

                    title, help_text = screen_title(self.db.pack, job)
                yield SystemCommand(title, help_text, getattr(self, method))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc is the app's only while a query runs or the key panel is open."""
        if action == "stop_queries":
            return self.db.running > 0 or self._keys_shown()
        return True

    def on_key(self, event: events.Key) -> None:
        """A write key pressed on a read-only profile (shown dimmed, it does nothing): say why,
        once per key and screen, where the person looks."""
        active = self.screen.active_bindings.get(event.key)
        if not self.db.known_read_only or active is None or active.enabled:
            return
        said = (type(self.screen), event.key)
        if said not in self._read_only_said:
            self._read_only_said.add(said)
            self.notify(
                f"{active.binding.description}: not here. Profile '{self.db.profile.name}' is "
                f"read-only ({self.db.read_only_why}).",
                severity="warning",
                markup=False,
            )

    def on_worker_state_changed(self) -> None:
        """A worker (database work) started or ended: the footer's Esc may have changed hands,
        and a read may have learned the profile is read-only."""
        self.refresh_bindings()
        self.sub_title = self._where()

    def _keys_shown(self) -> bool:
        return bool(self.screen.query("HelpPanel"))

    def action_toggle_keys(self) -> None:
        """`?` opens the panel of every key of the screen, and closes it again."""
        if self._keys_shown():
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_stop_queries(self) -> None:
        """Esc while a statement runs cancels it (the screen shows it stopped); with the key
        panel open it closes the panel; otherwise Esc goes on to the screen."""
        if self.db.cancel_running():
            self.notify("Stopping the running query…")
        elif self._keys_shown():
            self.action_hide_help_panel()
        else:
            raise SkipAction()

    def action_user_lookup(self) -> None:
        """Back to the home screen, whatever is open."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def open_user(self, user_id: str) -> None:
        """Show one user's detail screen."""
        from adminui.tui.user_detail import UserDetailScreen

        self.push_screen(UserDetailScreen(user_id))

    def open_executions(self) -> None:
        """Show the execution history."""
        from adminui.tui.executions import ExecutionsScreen

        self.push_screen(ExecutionsScreen())

    def open_payments(self) -> None:
        """Show the payment summaries."""
        from adminui.tui.payments import PaymentsScreen

        self.push_screen(PaymentsScreen())

    def open_orphans(self, tab: str = "checks") -> None:
        """Show the orphan-row checks (or another tab of their screen: the schema check)."""
        from adminui.tui.orphans import OrphansScreen

        self.push_screen(OrphansScreen(tab))

    open_schema = partialmethod(open_orphans, "schema")

    def open_pending(self) -> None:
        """Show the queue of pending receipts."""
        from adminui.tui.pending_receipts import PendingReceiptsScreen

        self.push_screen(PendingReceiptsScreen())

    def open_processing(self) -> None:
        """Show the processing history (the product's jobs by status, failed documents)."""
        from adminui.tui.processing import ProcessingScreen

        self.push_screen(ProcessingScreen())

    def open_ledger(self, user: str = "") -> None:
        """Show the credit ledger, for one user if one is given."""
        from adminui.tui.ledger import LedgerScreen

        self.push_screen(LedgerScreen(user))

    def open_reports(self, job: str) -> None:
        """Show a report job's screen (ledger health or budgets, usage, money)."""
        from adminui.tui.reports import ReportsScreen

        self.push_screen(ReportsScreen(job))

    open_health = partialmethod(open_reports, "health")
    open_usage = partialmethod(open_reports, "usage")
    open_money = partialmethod(open_reports, "money")

    def open_grant(self, user: str = "") -> None:
        """Show the grant screen, for a user if one is given."""
        from adminui.tui.grant import GrantScreen

        self.push_screen(GrantScreen(user))
