"""What the grant screen asks and shows, per balance model: a product whose grants write a
receipt of the payment (Idea Expansion: credits, the USD paid, the reference) or one whose
grants are ledger rows (fltr's credits, optionally on the user's team; OmniChat's battery). The
screen (grant.py) is one; a form says its fields, how they become a validated grant, what the
preview and confirmation say, and how the grant is written and read back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from adminui.audit import audit_path
from adminui.errors import InputError
from adminui.ops import adjustments, bmc, credits, ledger_credits
from adminui.ops.values import signed
from adminui.tui.cells import cell

if TYPE_CHECKING:
    from textual.screen import Screen

    from adminui.bmc import Payment
    from adminui.db import Database
    from adminui.packs import Pack

REFERENCE_HELP = "required: it matches the payment to its receipt and catches a second grant"
OVERRIDE_HELP = "only if the reference is already on a receipt"


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    placeholder: str = ""


@dataclass(frozen=True)
class Written:
    """A grant as read back, for the receipt dialog."""

    title: str
    text: str
    name: str  # the saved copy's file name, without its suffix
    done: str  # one line under the form
    warning: str | None


def _facts(rows: list[tuple[str, str]]) -> Table:
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    for label, value in rows:
        facts.add_row(label, Text(value))
    return facts


def _hazards(
    where: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]], override: str
) -> list[object]:
    """The duplicate hazard: the rows already holding the reference, and what granting needs."""
    table = Table(*headers, box=None)
    for row in rows:
        table.add_row(*(Text(str(v)) for v in row))
    return [
        Text(f"\nThis reference is already on {len(rows)} {where}(s):", style="bold red"),
        table,
        Text(
            f"Override: {override}"
            if override
            else f"Granting anyway needs an override reason (kept in the {where}'s notes).",
            style="bold",
        ),
    ]


class ReceiptForm:
    """Idea Expansion: paid credits with a verified receipt of the payment."""

    summary = "Grant paid credits with a verified receipt"
    verb, what = "Grant", "credits"
    fields = (
        Field("user", "User (email or id)"),
        Field("bmc", "BMC payment", "support id: Enter reads it there (ctrl+b: the user's)"),
        Field("credits", "Credits", "whole credits, e.g. 5"),
        Field("amount", "Amount (USD)", "e.g. 5.00 (read from the BMC payment)"),
        Field("reference", "BMC reference", REFERENCE_HELP),
        Field("notes", "Notes", "optional"),
        Field("override", "Override reason", OVERRIDE_HELP),
        Field("amount_reason", "Amount differs", "only if not the BMC payment's: why"),
    )
    reads_payments = True  # its grants can be of a Buy Me a Coffee payment, read there first

    def parse(self, form: dict[str, str], max_credits: int) -> credits.GrantInput:
        return credits.parse_grant(
            form["credits"],
            form["amount"],
            form["reference"],
            form["notes"],
            form["override"],
            max_credits=max_credits,
        )

    def for_payment(
        self,
        db: Database,
        grant: credits.GrantInput,
        form: dict[str, str],
        payment: Payment | None,
        currencies: tuple[str, ...],
    ) -> credits.GrantInput:
        """The grant of the BMC payment read for this form: refused as `grant --bmc` refuses
        (refunded, already granted, another currency or amount without a reason); its notes
        record the payment, and the write checks its receipts again."""
        payment_id = bmc.parse_payment_id(form["bmc"])
        if payment is None or payment.id != payment_id:
            raise InputError("BMC payment", "press Enter in it to read the payment first")
        if grant.reference.casefold() != payment.reference.casefold():
            raise InputError("bmc_reference", f"is not the payment's {payment.reference}")
        checked = bmc.check_for_grant(
            db,
            payment,
            payment_id,
            currencies=currencies,
            amount=grant.amount_usd,
            amount_reason=credits.checked_text(
                "Amount differs", form["amount_reason"], credits.MAX_REASON
            ),
            fetched=datetime.now(UTC),
        )
        return bmc.with_payment(grant, checked)

    def preview(self, db: Database, user_id: str, grant: Any) -> credits.GrantPreview:
        return credits.preview_grant(db, user_id, grant)

    def render(self, preview: credits.GrantPreview) -> Group:
        """Who, now and after, and the duplicate hazard."""
        grant, before, after = preview.grant, preview.before, preview.after
        missing = "" if before.exists else " (no usage_tracking row: the grant creates it)"
        parts: list[object] = [
            _facts(
                [
                    ("User", f"{preview.email} ({preview.name or 'no name'})"),
                    (
                        "Grant",
                        f"{grant.credits:,} credits for {grant.amount_usd} USD, reference "
                        f"{grant.reference!r}",
                    ),
                    *((("Payment", grant.notes.splitlines()[0]),) if grant.payment else ()),
                    ("Free", f"{before.free:,} → {after.free:,}{missing}"),
                    ("Paid", f"{before.paid:,} → {after.paid:,}"),
                    ("Total", f"{before.total:,} → {after.total:,}"),
                ]
            )
        ]
        if preview.duplicates:
            rows = [
                (
                    d.id[:8],
                    d.email or "?",
                    d.amount_usd,
                    d.credits_purchased,
                    d.status,
                    f"{d.created_at:%Y-%m-%d}" if d.created_at else "",
                )
                for d in preview.duplicates
            ]
            headers = ("Receipt", "User", "USD", "Credits", "Status", "Created")
            parts += _hazards("receipt", headers, rows, grant.override_reason or "")
        else:
            parts.append(Text("\nNo receipt uses this reference yet. Grant… (ctrl+g) writes it."))
        return Group(*parts)  # type: ignore[arg-type]

    def question(self, preview: credits.GrantPreview) -> str:
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
        return question

    def write(self, db: Database, preview: credits.GrantPreview, operator: str) -> Written:
        result = credits.grant_credits(
            db, preview.user_id, preview.grant, operator, seen_duplicates=preview.duplicate_ids
        )
        return Written(
            "✨ Credits granted successfully!",
            result.receipt_text(),
            f"receipt-{result.receipt_id}",
            f"Granted: receipt {result.receipt_id}.",
            result.warning,
        )


class LedgerForm:
    """A ledger product: a purchase or bonus ledger row, in the product's unit (fltr's credits,
    OmniChat's battery units), on the user's balance or, where the product has teams, their
    team's."""

    verb = "Grant"
    reads_payments = False

    def __init__(self, pack: Pack) -> None:
        self.units = ledger_credits.units(pack)
        self.what = self.units.label.lower()
        word = self.units.word
        team = (
            (Field("team", "Team", f"optional: the user's team, whose balance gets the {word}"),)
            if self.units.teams
            else ()
        )
        self.summary = f"Grant {word} with a ledger row" + (
            " (the user's or their team's balance)" if self.units.teams else ""
        )
        self.fields = (
            Field("user", "User (email or id)"),
            Field("credits", self.units.label, f"whole {word}, e.g. 5"),
            Field("type", "Type", "purchase (the default) or bonus"),
            *team,
            Field("reference", "Reference", "required: the payment's; catches a second grant"),
            Field("notes", "Notes", "optional"),
            Field("override", "Override reason", "only if the reference is already in the ledger"),
        )

    def parse(self, form: dict[str, str], max_credits: int) -> ledger_credits.LedgerGrantInput:
        return ledger_credits.parse_ledger_grant(
            form["credits"],
            form["reference"],
            form["type"].strip().lower() or "purchase",
            form["notes"],
            form["override"],
            form.get("team"),
            max_credits=max_credits,
        )

    def preview(self, db: Database, user_id: str, grant: Any) -> ledger_credits.LedgerGrantPreview:
        return ledger_credits.preview_grant(db, user_id, grant)

    def render(self, preview: ledger_credits.LedgerGrantPreview) -> Group:
        grant, before, units = preview.grant, preview.before, self.units
        missing = "" if before.exists else " (no balance row yet: the grant creates it)"
        balance = f"team {before.name}" if before.team_id else "the user's own"
        parts: list[object] = [
            _facts(
                [
                    ("User", f"{preview.email} ({preview.name or 'no name'})"),
                    (
                        "Grant",
                        f"{grant.credits:,} {units.word} ({grant.kind}), "
                        f"reference {grant.reference!r}",
                    ),
                    ("Balance", balance),
                    (units.label, f"{before.credits:,} → {preview.after:,}{missing}"),
                ]
            )
        ]
        if preview.duplicates:
            rows = [
                (d.id, d.email or d.user_id, d.type, signed(d.amount), cell(d.created_at).plain)
                for d in preview.duplicates
            ]
            headers = ("Row", "User", "Type", units.label, "Created")
            parts += _hazards("ledger row", headers, rows, grant.override_reason or "")
        else:
            free = "\nNo ledger row holds this reference yet. Grant… (ctrl+g) writes it."
            parts.append(Text(free))
        return Group(*parts)  # type: ignore[arg-type]

    def question(self, preview: ledger_credits.LedgerGrantPreview) -> str:
        grant, before, units = preview.grant, preview.before, self.units
        question = (
            f"Grant {grant.credits:,} {units.word} ({grant.kind}, reference "
            f"{grant.reference!r}) to {before.kind} {before.name}?\n{units.label} "
            f"{before.credits:,} → {preview.after:,}. This writes a ledger row."
        )
        if preview.duplicates:
            question += (
                f"\n\nThe reference is already on {len(preview.duplicates)} ledger row(s); this "
                f"grants it again, overriding: {grant.override_reason}"
            )
        return question

    def write(
        self, db: Database, preview: ledger_credits.LedgerGrantPreview, operator: str
    ) -> Written:
        change = ledger_credits.grant(
            db,
            preview.user_id,
            preview.grant,
            operator,
            seen_duplicates=preview.duplicate_ids,
            preview=preview,
        )
        return Written(
            f"✨ {self.units.label} granted!",
            change.receipt_text(),
            f"grant-{change.entry.id}",
            f"Granted: ledger row {change.entry.id}.",
            change.warning,
        )


class AdjustForm:
    """A balance column with no ledger (filepath): credits added or taken on the user's or one
    API key's balance, the audit log's line the only record (said before the write)."""

    summary = "Adjust credits on a user or API key (no ledger: the audit log is the record)"
    verb, what = "Adjust", "credits"
    reads_payments = False
    fields = (
        Field("user", "User (email or id)"),
        Field("credits", "Credits", "+500 adds, -200 takes"),
        Field("apikey", "API key id", "optional: the key whose balance moves instead"),
        Field("reason", "Reason", "required: the record keeps it"),
        Field("reference", "Reference", "optional: the payment's; checked against the audit log"),
        Field("override", "Override reason", "only if the reference is in the audit log"),
    )

    def parse(self, form: dict[str, str], max_credits: int) -> adjustments.Adjustment:
        return adjustments.parse_adjustment(
            form["credits"],
            form["reason"],
            form["reference"],
            form["apikey"],
            form["override"],
            max_credits=max_credits,
        )

    def preview(self, db: Database, user_id: str, grant: Any) -> adjustments.AdjustPreview:
        return adjustments.preview_adjustment(db, user_id, grant)

    def render(self, preview: adjustments.AdjustPreview) -> Group:
        change, before = preview.adjustment, preview.before
        parts: list[object] = [
            _facts(
                [
                    ("User", f"{preview.email} ({preview.name or 'no name'})"),
                    ("Balance", before.label),
                    ("Credits", f"{before.credits:,} → {preview.after:,} ({change.credits:+,})"),
                    ("Record", f"{adjustments.RECORD} ({audit_path()})"),
                ]
            )
        ]
        if preview.below_zero:
            parts.append(Text("\nThis leaves the balance below zero.", style="bold red"))
        if preview.over_cap:
            cap = before.key["budget_cap"] if before.key else 0
            parts.append(Text(f"\nThis leaves the key over its budget cap ({cap:,}).", "bold"))
        if preview.earlier:
            headers = ("Logged (UTC)", "Operator", "Credits", "Outcome")
            rows = preview.earlier_rows
            parts += _hazards("adjustment", headers, rows, change.override_reason or "")
        else:
            parts.append(Text("\nAdjust… (ctrl+g) asks, then writes it."))
        return Group(*parts)  # type: ignore[arg-type]

    def question(self, preview: adjustments.AdjustPreview) -> str:
        change, before = preview.adjustment, preview.before
        question = (
            f"Adjust {before.label} of {preview.email} by {change.credits:+,} credits?\n"
            f"Credits {before.credits:,} → {preview.after:,}. No ledger row is written: the "
            "audit log's line is the record."
        )
        if preview.below_zero:
            question += f"\n\nThis leaves the balance below zero, at {preview.after:,}."
        if preview.earlier:
            question += (
                f"\n\nThe reference is on {len(preview.earlier)} adjustment(s) in the audit log; "
                f"overriding: {change.override_reason}"
            )
        return question

    def write(self, db: Database, preview: adjustments.AdjustPreview, operator: str) -> Written:
        done = adjustments.adjust(
            db,
            preview.user_id,
            preview.adjustment,
            operator,
            below_zero=preview.below_zero,  # the question said so, and was answered yes
            seen_earlier=preview.earlier_ids,
            preview=preview,
        )
        stamp = f"{done.at:%Y%m%d-%H%M%S}"
        return Written(
            "✨ Credits adjusted!",
            done.receipt_text(),
            f"adjustment-{preview.user_id}-{stamp}",
            f"Adjusted: {done.previous:,} → {done.new:,} (the audit log holds the record).",
            done.warning,
        )


def relabel(screen: Screen[Any], key: str, description: str) -> None:
    """Name a key's action as the product's form does ('Grant battery', 'Adjust credits'):
    the screens are one class for every product, their bindings written once."""
    bindings = screen._bindings.key_to_bindings  # Textual keeps a screen's bindings here
    bindings[key] = [replace(b, description=description) for b in bindings.get(key, [])]
    screen.refresh_bindings()


def form_for(pack: Pack) -> ReceiptForm | LedgerForm | AdjustForm:
    """The grant form of a pack's balance model (its manifest names it)."""
    if pack.balance.model == adjustments.MODEL:
        return AdjustForm()
    return ReceiptForm() if pack.balance.model == "buckets" else LedgerForm(pack)
