"""Verify and refund, for every screen that lists receipts (the pending queue, a user's detail).

A screen mixes in `ReceiptActions`, says which receipt is selected and what to do after a change;
the mixin asks (a reason, a confirmation, a second confirmation for a shortfall) and runs the
write in a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from adminui.ops import credits
from adminui.tui.cells import failure
from adminui.tui.dialogs import ConfirmScreen, ReasonScreen

if TYPE_CHECKING:
    from adminui.tui.app import AdminApp


# The job each screen key needs the product to offer, and the keys that write.
JOB_OF = {
    "grant": "credits",
    "verify_receipt": "receipts",
    "refund_receipt": "receipts",
    "ledger": "ledger",
}
WRITES = {"grant", "verify_receipt", "refund_receipt"}


class ReceiptActions(Screen[None]):
    """Verify (`v`) and refund (`x`) the selected receipt."""

    def selected_receipt_id(self) -> str | None:
        """The receipt under the cursor, if any."""
        raise NotImplementedError

    def after_receipt_change(self) -> None:
        """Read the screen's data again after a write."""
        raise NotImplementedError

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A key is absent for a product without its job; a write's shows as unavailable
        (dimmed) on a read-only profile."""
        job = JOB_OF.get(action)
        if job is not None and job not in self.admin.db.pack.jobs:
            return False
        if action in WRITES and self.admin.db.known_read_only:
            return None
        return True

    def _say(self, text: str, error: bool = False) -> None:
        self.notify(text, severity="error" if error else "information", markup=False)

    def action_verify_receipt(self) -> None:
        """Verify the selected pending receipt: grant its credits."""
        receipt_id = self.selected_receipt_id()
        if receipt_id is not None:
            self._load_for_verify(receipt_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt-action")
    def _load_for_verify(self, receipt_id: str) -> None:
        try:
            preview = credits.preview_verify(self.admin.db, receipt_id)
        except Exception as error:
            self.app.call_from_thread(self._say, failure(error), True)
            return
        self.app.call_from_thread(self._ask_verify, preview)

    def _ask_verify(self, preview: credits.VerifyPreview) -> None:
        receipt = preview.receipt
        question = (
            f"Verify receipt {receipt.id[:8]} ({receipt.amount_usd} USD, reference "
            f"{receipt.bmc_reference!r}) and add {receipt.credits_purchased:,} credits "
            f"to {receipt.email}?\nTotal {preview.before.total:,} → "
            f"{preview.after.total:,}."
        )

        def confirm(reason: str | None) -> None:
            self.app.push_screen(
                ConfirmScreen(question + (f"\nOverride: {reason}" if reason else ""), "Verify"),
                lambda yes: self._verify(preview, reason) if yes else None,
            )

        if not preview.duplicates:
            confirm(None)
            return
        listed = "; ".join(f"{d.id[:8]} {d.email} {d.status}" for d in preview.duplicates)
        self.app.push_screen(
            ReasonScreen(
                f"Reference {receipt.bmc_reference!r} is already on "
                f"{len(preview.duplicates)} other receipt(s): {listed}. The payment may "
                "have been credited already. Why verify anyway?"
            ),
            lambda reason: confirm(reason) if reason else None,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt-action")
    def _verify(self, preview: credits.VerifyPreview, reason: str | None) -> None:
        try:
            change = credits.verify_receipt(
                self.admin.db,
                preview.receipt.id,
                self.admin.config.operator,
                override_reason=reason,
                seen_duplicates=preview.duplicate_ids,
            )
            self.app.call_from_thread(self._done, change.describe("Verified"), change.warning)
        except Exception as error:
            self.app.call_from_thread(self._say, f"Not verified: {failure(error)}", True)

    def action_refund_receipt(self) -> None:
        """Refund the selected receipt: ask why, preview, confirm."""
        receipt_id = self.selected_receipt_id()
        if receipt_id is None:
            return
        self.app.push_screen(
            ReasonScreen(f"Why is receipt {receipt_id[:8]} refunded? (kept in its notes)"),
            lambda reason: self._load_for_refund(receipt_id, reason) if reason else None,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt-action")
    def _load_for_refund(self, receipt_id: str, reason: str) -> None:
        try:
            preview = credits.preview_refund(self.admin.db, receipt_id)
        except Exception as error:
            self.app.call_from_thread(self._say, failure(error), True)
            return
        self.app.call_from_thread(self._ask_refund, preview, reason)

    def _ask_refund(self, preview: credits.RefundPreview, reason: str) -> None:
        receipt = preview.receipt
        question = (
            f"Refund receipt {receipt.id[:8]} of {receipt.email} ({receipt.amount_usd} "
            f"USD, {receipt.status})?\nTakes back {preview.take_back:,} paid credits "
            f"(paid {preview.before.paid:,} → {preview.after.paid:,}).\nReason: {reason}"
        )

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if not preview.shortfall:
                self._refund(receipt.id, reason, False)
                return
            shortfall = (
                f"The user already spent {preview.shortfall:,} of these credits; they "
                f"can't be taken back. Refund anyway, taking back only "
                f"{preview.take_back:,}?"
            )
            self.app.push_screen(
                ConfirmScreen(shortfall, "Refund with shortfall", quick_yes=False),
                lambda again: self._refund(receipt.id, reason, True) if again else None,
            )

        self.app.push_screen(ConfirmScreen(question, "Refund"), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt-action")
    def _refund(self, receipt_id: str, reason: str, accept_shortfall: bool) -> None:
        try:
            change = credits.refund_receipt(
                self.admin.db,
                receipt_id,
                reason,
                self.admin.config.operator,
                accept_shortfall=accept_shortfall,
            )
            self.app.call_from_thread(self._done, change.describe("Refunded"), change.warning)
        except Exception as error:
            self.app.call_from_thread(self._say, f"Not refunded: {failure(error)}", True)

    def _done(self, text: str, warning: str | None) -> None:
        self._say(text)
        if warning:
            self.notify(warning, severity="warning", markup=False)
        self.after_receipt_change()
