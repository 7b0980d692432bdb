"""The grant screen: the operator's Buy Me a Coffee job. Fill in, preview, confirm, see the receipt.

What is confirmed is exactly what was previewed: editing any field throws the preview away, and
the write uses the validated request the preview was made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static
from textual.worker import get_current_worker

from adminui.config import data_dir
from adminui.errors import InputError
from adminui.ops import credits, users
from adminui.tui.cells import failure
from adminui.tui.dialogs import ConfirmScreen, ReceiptScreen

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp

REFERENCE_HELP = "required: it matches the payment to its receipt and catches a second grant"
FIELDS = ("user", "credits", "amount", "reference", "notes", "override")


class GrantScreen(Screen[None]):
    """Grant paid credits with a verified receipt."""

    CSS_PATH = "grant.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "preview", "Preview", tooltip="Check the grant before writing"),
        Binding("ctrl+g", "grant", "Grant…", tooltip="Write the previewed grant"),
    ]

    @dataclass
    class Previewed(Message):
        """A preview finished (or failed); `generation` says which form state it answers."""

        generation: int
        preview: credits.GrantPreview | None
        error: str | None = None

    @dataclass
    class Granted(Message):
        """The grant was written (or failed)."""

        result: credits.GrantResult | None
        error: str | None = None

    def __init__(self, user: str = "") -> None:
        super().__init__()
        self.initial_user = user
        self._generation = 0
        self._preview: credits.GrantPreview | None = None
        self._writing = False  # a grant is being written: no preview, grant or leaving

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Static(id="banner")
            with Grid(id="fields"):
                yield Label("User (email or id)")
                yield Input(self.initial_user, id="user")
                yield Label("Credits")
                yield Input(placeholder="whole credits, e.g. 5", id="credits")
                yield Label("Amount (USD)")
                yield Input(placeholder="e.g. 5.00", id="amount")
                yield Label("BMC reference")
                yield Input(placeholder=REFERENCE_HELP, id="reference")
                yield Label("Notes")
                yield Input(placeholder="optional", id="notes")
                yield Label("Override reason")
                yield Input(
                    placeholder="only if the reference is already on a receipt", id="override"
                )
            with Horizontal(id="actions"):
                yield Button("Preview", id="preview")
                yield Button("Grant…", id="grant", variant="warning", disabled=True)
            yield Static("Fill in the grant, then Preview (ctrl+r).", id="outcome")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"operator: {self.admin.config.operator}"
        if self.admin.db.read_only:
            self.query_one("#banner", Static).update(Text(self._read_only(), style="bold"))
            self.query_one("#preview", Button).disabled = True
            for field in self.query(Input):  # nothing to type into: no grant can be made
                field.disabled = True
        self.query_one("#credits" if self.initial_user else "#user", Input).focus()

    def on_input_changed(self) -> None:
        """Any edit makes the preview stale: Grant waits for a new one."""
        self._generation += 1
        if self._preview is not None:
            self._preview = None
            self.query_one("#outcome", Static).update("Changed: Preview again (ctrl+r).")
        self.query_one("#grant", Button).disabled = True

    def on_input_submitted(self) -> None:
        """Enter in any field previews."""
        self.action_preview()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Preview or grant."""
        if event.button.id == "preview":
            self.action_preview()
        elif event.button.id == "grant":
            self.action_grant()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def _read_only(self) -> str:
        db = self.admin.db
        return f"Profile '{db.profile.name}' is read-only ({db.read_only_why}): no grant here."

    def action_preview(self) -> None:
        """Check the input and show what the grant would do."""
        if self.admin.db.read_only:
            self.notify(self._read_only(), severity="warning", markup=False)
            return
        if self._writing:
            return
        self.query_one("#outcome", Static).update("Checking…")
        self.preview(self._generation, {field: self._value(field) for field in FIELDS})

    @work(thread=True, exclusive=True, exit_on_error=False, group="grant-preview")
    def preview(self, generation: int, form: dict[str, str]) -> None:
        """Validate, find the user and the reference's receipts, off the UI thread."""
        db, config = self.admin.db, self.admin.config
        try:
            grant = credits.parse_grant(
                form["credits"],
                form["amount"],
                form["reference"],
                form["notes"],
                form["override"],
                max_credits=config.max_grant_credits,
            )
            if not form["user"].strip():
                raise InputError("user", "type the user's email or id")
            preview = credits.preview_grant(db, users.resolve_user(db, form["user"]), grant)
            message = self.Previewed(generation, preview)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Previewed(generation, None, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_grant_screen_previewed(self, message: Previewed) -> None:
        """Show the preview, and allow Grant only for the form it was made from."""
        if message.generation != self._generation or self._writing:
            return
        outcome = self.query_one("#outcome", Static)
        if message.preview is None:
            outcome.update(Text(message.error or "", style="bold red"))
            return
        preview = self._preview = message.preview
        outcome.update(render_preview(preview))
        outcome.scroll_visible()
        blocked = preview.needs_override and not preview.grant.override_reason
        self.query_one("#grant", Button).disabled = blocked

    def action_grant(self) -> None:
        """Ask, then write exactly the previewed grant."""
        preview = self._preview
        if self.admin.db.read_only:
            self.notify(self._read_only(), severity="warning", markup=False)
            return
        if self._writing:
            return
        if preview is not None and preview.needs_override and not preview.grant.override_reason:
            self.notify(
                "This reference is already on a receipt: give an override reason (why this is "
                "another payment), then Preview again.",
                severity="warning",
            )
            return
        if preview is None or self.query_one("#grant", Button).disabled:
            self.notify("Preview the grant first.", severity="warning")
            return
        grant = preview.grant
        question = (
            f"Grant {grant.credits:,} credits ({grant.amount_usd} USD, reference "
            f"{grant.reference!r}) to {preview.email}?\n"
            f"Total {preview.before.total:,} → {preview.after.total:,}. This writes a verified "
            "receipt."
        )
        if preview.needs_override:
            question += (
                f"\n\nThe reference is already on {len(preview.duplicates)} receipt(s); this "
                f"grants it again, overriding: {grant.override_reason}"
            )

        def answered(yes: bool | None) -> None:
            if yes and self._preview is preview and not self._writing:
                self._writing = True
                self.query_one("#grant", Button).disabled = True
                self.query_one("#outcome", Static).update("Writing…")
                self.write(preview)

        self.app.push_screen(ConfirmScreen(question, "Grant"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="grant-write")
    def write(self, preview: credits.GrantPreview) -> None:
        """The one transaction, off the UI thread."""
        try:
            result = credits.grant_credits(
                self.admin.db,
                preview.user_id,
                preview.grant,
                self.admin.config.operator,
                seen_duplicates=preview.duplicate_ids,
            )
            message = self.Granted(result)
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.Granted(None, failure(error))
        self.post_message(message)

    def on_grant_screen_granted(self, message: Granted) -> None:
        """Show the receipt read back from the database; the form starts over."""
        self._preview = None
        self._writing = False
        outcome = self.query_one("#outcome", Static)
        if message.result is None:
            outcome.update(Text(f"Not granted: {message.error}", style="bold red"))
            return
        result = message.result
        for field in FIELDS[1:]:  # a second grant starts from an empty form
            self.query_one(f"#{field}", Input).value = ""
        outcome.update(Text(f"Granted: receipt {result.receipt_id}.", style="bold"))
        if result.warning:
            self.notify(result.warning, severity="warning", markup=False)
        self.app.push_screen(
            ReceiptScreen(
                "✨ Credits granted successfully!",
                result.receipt_text(),
                data_dir() / "receipts",
                f"receipt-{result.receipt_id}",
            ),
            lambda _: self.call_later(self.action_back),  # back to the user, who reloads
        )

    def action_back(self) -> None:
        """Leave without writing (not while a grant is being written: its receipt comes next)."""
        if self._writing:
            self.notify("The grant is being written; its receipt shows next.")
            return
        self.app.pop_screen()


def render_preview(preview: credits.GrantPreview) -> Group:
    """The preview panel: who, now and after, and the duplicate hazard."""
    grant = preview.grant
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    missing = "" if preview.before.exists else " (no usage_tracking row: the grant creates it)"
    for label, value in (
        ("User", f"{preview.email} ({preview.name or 'no name'})"),
        (
            "Grant",
            f"{grant.credits:,} credits for {grant.amount_usd} USD, reference {grant.reference!r}",
        ),
        ("Free", f"{preview.before.free:,} → {preview.after.free:,}{missing}"),
        ("Paid", f"{preview.before.paid:,} → {preview.after.paid:,}"),
        ("Total", f"{preview.before.total:,} → {preview.after.total:,}"),
    ):
        facts.add_row(label, Text(value))
    parts: list[object] = [facts]
    if preview.duplicates:
        parts.append(
            Text(
                f"\nThis reference is already on {len(preview.duplicates)} receipt(s):",
                style="bold red",
            )
        )
        hazards = Table("Receipt", "User", "USD", "Credits", "Status", "Created", box=None)
        for dup in preview.duplicates:
            hazards.add_row(
                *(
                    Text(str(v))
                    for v in (
                        dup.id[:8],
                        dup.email or "?",
                        dup.amount_usd,
                        dup.credits_purchased,
                        dup.status,
                        f"{dup.created_at:%Y-%m-%d}" if dup.created_at else "",
                    )
                )
            )
        parts.append(hazards)
        parts.append(
            Text(
                "Granting anyway needs an override reason (kept in the receipt's notes)."
                if not grant.override_reason
                else f"Override: {grant.override_reason}",
                style="bold",
            )
        )
    else:
        parts.append(Text("\nNo receipt uses this reference yet. Grant… (ctrl+g) writes it."))
    return Group(*parts)  # type: ignore[arg-type]
