"""The grant screen: the operator's Buy Me a Coffee job. Fill in, preview, confirm, see the receipt.

What is confirmed is exactly what was previewed: editing any field throws the preview away, and
the write uses the validated request the preview was made from. What it asks and shows is the
product's grant form (grant_forms.py: a receipt, or a ledger row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rich.console import Group
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
from adminui.connect import open_bmc
from adminui.errors import InputError
from adminui.ops import bmc, users
from adminui.tui.cells import failure
from adminui.tui.dialogs import ConfirmScreen, PickScreen, ReceiptScreen
from adminui.tui.grant_forms import Written, form_for, relabel

if TYPE_CHECKING:
    from adminui.bmc import Payment
    from adminui.tui.app import AdminApp


class GrantScreen(Screen[None]):
    """Grant credits to a user, as the product's grant form says."""

    CSS_PATH = "grant.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "preview", "Preview", tooltip="Check the grant before writing"),
        Binding("ctrl+g", "grant", "Grant…", tooltip="Write the previewed grant"),
        Binding(
            "ctrl+b",
            "payer_payments",
            "BMC payments",
            tooltip="The user's Buy Me a Coffee payments of the last 90 days, to pick one",
        ),
    ]

    @dataclass
    class Previewed(Message):
        """A preview finished (or failed); `generation` says which form state it answers."""

        generation: int
        preview: Any
        error: str | None = None

    @dataclass
    class Granted(Message):
        """The grant was written (or failed)."""

        result: Written | None
        error: str | None = None

    @dataclass
    class PaymentRead(Message):
        """A Buy Me a Coffee payment was read (None: BMC has none of that id), or failed."""

        payment_id: int
        payment: Payment | None
        then_preview: bool
        error: str | None = None

    @dataclass
    class PaymentsFound(Message):
        """The user's payments at Buy Me a Coffee, to pick one (or the failure)."""

        email: str
        payments: list[Payment]
        error: str | None = None

    def __init__(self, user: str = "") -> None:
        super().__init__()
        self.initial_user = user
        self._generation = 0
        self._preview: Any = None
        self._writing = False  # a grant is being written: no preview, grant or leaving
        self._payment: Payment | None = None  # the BMC payment read for the form
        self._asked: dict[str, str] | None = None  # the form the last preview was asked for

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    @property
    def form(self) -> Any:
        return form_for(self.admin.db.pack)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Static(id="banner")
            with Grid(id="fields"):
                for field in self.form.fields:
                    yield Label(field.label)
                    value = self.initial_user if field.id == "user" else ""
                    yield Input(value, placeholder=field.placeholder, id=field.id)
            with Horizontal(id="actions"):
                yield Button("Preview", id="preview")
                yield Button(f"{self.form.verb}…", id="grant", variant="warning", disabled=True)
            yield Static("Fill in the grant, then Preview (ctrl+r).", id="outcome")
        yield Footer()

    def on_mount(self) -> None:
        relabel(self, "ctrl+g", f"{self.form.verb}…")
        self.sub_title = f"operator: {self.admin.config.operator}"
        if self.admin.db.known_read_only:
            self.query_one("#banner", Static).update(Text(self._read_only(), style="bold"))
            self.query_one("#preview", Button).disabled = True
            for field in self.query(Input):  # nothing to type into: no grant can be made
                field.disabled = True
        self.query_one("#credits" if self.initial_user else "#user", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The BMC key only where the product's grants can be of a BMC payment."""
        if action == "payer_payments":
            return self.form.reads_payments
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        """Any edit makes the preview stale: Grant waits for a new one; another payment id
        forgets the payment read. A change the last preview was asked with already (a field
        the payment filled in, whose event comes after) changes nothing."""
        payment = self._payment
        if event.input.id == "bmc" and payment and not _names(event.value, payment.id):
            # Another payment, or none: what this one filled in goes with it.
            self._payment = None
            for field, filled in (
                ("amount", str(payment.amount)),
                ("reference", payment.reference),
            ):
                if self._value(field) == filled:
                    self.query_one(f"#{field}", Input).value = ""
        if self._form() == self._asked:
            return
        self._generation += 1
        if self._preview is not None:
            self._preview = None
            self.query_one("#outcome", Static).update("Changed: Preview again (ctrl+r).")
        self.query_one("#grant", Button).disabled = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any field previews (in the BMC payment's, after reading it)."""
        if event.input.id == "bmc" and event.value.strip():
            self.read_payment(then_preview=False)
            return
        self.action_preview()

    # Buy Me a Coffee: the payment read there prefills the amount and the reference.

    def read_payment(self, *, then_preview: bool) -> None:
        try:
            payment_id = bmc.parse_payment_id(self._value("bmc"))
        except InputError as error:
            self.query_one("#outcome", Static).update(Text(str(error), style="bold red"))
            return
        self.query_one("#outcome", Static).update(
            f"Reading support {payment_id} at Buy Me a Coffee…"
        )
        self._read_payment(payment_id, then_preview)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bmc-read")
    def _read_payment(self, payment_id: int, then_preview: bool) -> None:
        """One request, off the UI thread."""
        try:
            with open_bmc(self.admin.db.profile, from_csv=None, interactive=False) as source:
                message = self.PaymentRead(
                    payment_id, source.payment("support", payment_id), then_preview
                )
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.PaymentRead(payment_id, None, then_preview, failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_grant_screen_payment_read(self, message: PaymentRead) -> None:
        if not _names(self._value("bmc"), message.payment_id):
            return  # the field names another payment now: this answer is stale
        # What BMC says now may differ from what the last preview was made with.
        self._asked = None
        self._generation += 1
        self._preview = None
        self.query_one("#grant", Button).disabled = True
        outcome = self.query_one("#outcome", Static)
        if message.error or message.payment is None:
            why = message.error or f"Buy Me a Coffee has no support {message.payment_id}."
            outcome.update(Text(why, style="bold red"))
            return
        payment = message.payment
        self._fill_from(payment)
        refunded = "  REFUNDED at Buy Me a Coffee: it can't grant." if payment.refunded else ""
        outcome.update(
            Text(
                f"Support {payment.id}: {payment.amount} {payment.currency} from "
                f"{payment.payer_email or 'no email'}, paid {payment.created:%Y-%m-%d %H:%M} "
                f"UTC.{refunded} Preview (ctrl+r) next.",
                style="bold red" if refunded else "",
            )
        )
        if message.then_preview:
            self.action_preview()

    def _fill_from(self, payment: Payment) -> None:
        """The amount (in USD) and the reference from the payment; the payment is kept (its
        own field's edit would forget it)."""
        if self._value("bmc").strip() != str(payment.id):
            self.query_one("#bmc", Input).value = str(payment.id)
        if payment.currency == "USD":
            self.query_one("#amount", Input).value = str(payment.amount)
        self.query_one("#reference", Input).value = payment.reference
        self._payment = payment

    def action_payer_payments(self) -> None:
        """The user's payments at BMC of the last 90 days (their email as the payer's)."""
        user = self._value("user").strip()
        if not user:
            self.notify("Type the user first: their payments are found by their email.")
            return
        self.query_one("#outcome", Static).update("Reading the user's payments at Buy Me a Coffee…")
        self._find_payments(user)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bmc-find")
    def _find_payments(self, user: str) -> None:
        db = self.admin.db
        email = ""
        try:
            email = bmc.user_email(db, user)
            since = self.admin.now() - timedelta(days=90)
            with open_bmc(db.profile, from_csv=None, interactive=False) as source:
                message = self.PaymentsFound(email, bmc.find(source, email, since))
        except Exception as error:  # shown on screen; a worker must never die silently
            message = self.PaymentsFound(email, [], failure(error))
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_grant_screen_payments_found(self, message: PaymentsFound) -> None:
        outcome = self.query_one("#outcome", Static)
        supports = [p for p in message.payments if p.kind == "support"]
        if message.error or not supports:
            text = message.error or f"No Buy Me a Coffee payment from {message.email} in 90 days."
            outcome.update(Text(text, style="bold red" if message.error else ""))
            return
        outcome.update("Pick the payment (Enter), or Esc.")
        rows = [
            (
                p,
                (
                    str(p.id),
                    f"{p.created:%Y-%m-%d %H:%M}",
                    f"{p.amount} {p.currency}",
                    "refunded" if p.refunded else "",
                ),
            )
            for p in supports
        ]
        headers = ("Support", "Paid (UTC)", "Amount", "")
        title = f"{message.email}'s payments at Buy Me a Coffee, newest first"

        def picked(payment: Payment | None) -> None:
            if payment is not None:
                self._fill_from(payment)
                self.action_preview()

        self.app.push_screen(PickScreen(title, headers, rows), picked)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Preview or grant."""
        if event.button.id == "preview":
            self.action_preview()
        elif event.button.id == "grant":
            self.action_grant()

    def _form(self) -> dict[str, str]:
        return {f.id: self._value(f.id) for f in self.form.fields}

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def _read_only(self) -> str:
        db = self.admin.db
        return f"Profile '{db.profile.name}' is read-only ({db.read_only_why}): no grant here."

    def action_preview(self) -> None:
        """Check the input and show what the grant would do."""
        if self.admin.db.known_read_only:
            self.notify(self._read_only(), severity="warning", markup=False)
            return
        if self._writing:
            return
        form = self._form()
        if form.get("bmc", "").strip() and self._payment is None:
            self.read_payment(then_preview=True)  # read first: its amount and reference fill in
            return
        self.query_one("#outcome", Static).update("Checking…")
        self._asked = form
        self.preview(self._generation, form, self._payment)

    @work(thread=True, exclusive=True, exit_on_error=False, group="grant-preview")
    def preview(self, generation: int, form: dict[str, str], payment: Payment | None) -> None:
        """Validate, check the BMC payment, find the user and the reference's receipts, off
        the UI thread."""
        db, config, kind = self.admin.db, self.admin.config, self.form
        try:
            grant = kind.parse(form, config.max_grant_credits)
            if not form["user"].strip():
                raise InputError("user", "type the user's email or id")
            if form.get("bmc", "").strip():
                grant = kind.for_payment(db, grant, form, payment, config.bmc_currencies)
            preview = kind.preview(db, users.resolve_user(db, form["user"]), grant)
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
        warning = bmc.payer_warning(self._payment, preview.email) if self._payment else ""
        rendered = self.form.render(preview)
        outcome.update(Group(Text(warning, style="bold yellow"), rendered) if warning else rendered)
        outcome.scroll_visible()
        blocked = preview.needs_override and not preview.grant.override_reason
        self.query_one("#grant", Button).disabled = blocked

    def action_grant(self) -> None:
        """Ask, then write exactly the previewed grant."""
        preview = self._preview
        if self.admin.db.known_read_only:
            self.notify(self._read_only(), severity="warning", markup=False)
            return
        if self._writing:
            return
        if preview is not None and preview.needs_override and not preview.grant.override_reason:
            self.notify(
                "This reference is already in use: give an override reason (why this is "
                "another payment), then Preview again.",
                severity="warning",
            )
            return
        if preview is None or self.query_one("#grant", Button).disabled:
            self.notify("Preview the grant first.", severity="warning")
            return
        question = self.form.question(preview)

        def answered(yes: bool | None) -> None:
            if yes and self._preview is preview and not self._writing:
                self._writing = True
                self.query_one("#grant", Button).disabled = True
                self.query_one("#outcome", Static).update("Writing…")
                self.write(preview)

        self.app.push_screen(ConfirmScreen(question, "Grant"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="grant-write")
    def write(self, preview: Any) -> None:
        """The one transaction, off the UI thread."""
        try:
            result = self.form.write(self.admin.db, preview, self.admin.config.operator)
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
        for field in self.form.fields[1:]:  # a second grant starts from an empty form
            self.query_one(f"#{field.id}", Input).value = ""
        outcome.update(Text(result.done, style="bold"))
        if result.warning:
            self.notify(result.warning, severity="warning", markup=False)
        self.app.push_screen(
            ReceiptScreen(result.title, result.text, data_dir() / "receipts", result.name),
            lambda _: self.call_later(self.action_back),  # back to the user, who reloads
        )

    def action_back(self) -> None:
        """Leave without writing (not while a grant is being written: its receipt comes next)."""
        if self._writing:
            self.notify("The grant is being written; its receipt shows next.")
            return
        self.app.pop_screen()


def _names(text: str, payment_id: int) -> bool:
    """Whether a BMC payment field's text names this payment."""
    try:
        return bmc.parse_payment_id(text) == payment_id
    except InputError:
        return False
