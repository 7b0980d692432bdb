"""Buy Me a Coffee's payments from a CSV file (`--from-csv`), for a machine without the token:
the supporters export of BMC's dashboard, or any CSV with the API's own field names. It answers
the same questions as the API client (one payment by id, the payments since a time), so `bmc
show`, `bmc find` and `bmc reconcile` work on it alike.

Columns are found by name, in any case, with spaces, dashes or underscores: the API's names
(support_id, payer_email, support_coffees, support_coffee_price, support_currency,
support_created_on, support_note, is_refunded, ...) or the plain ones an export uses (ID,
Email, Coffees, Price or Amount, Currency, Date, Note or Message, Refunded). Required: an id,
an email, the currency, the date, and coffees and price or an amount. Dates are
"YYYY-MM-DD HH:MM:SS" (UTC, as the API's) or ISO 8601 (a zone, if given, is kept).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from adminui.bmc import Payment
from adminui.errors import InputError

FIELD = "--from-csv"
# Each field adminui reads, by the names a column may have (folded: lower case, no separators).
COLUMNS = {
    "id": ("supportid", "id", "paymentid"),
    "email": ("payeremail", "supportemail", "email", "supporteremail"),
    "name": ("payername", "supportername", "name"),
    "coffees": ("supportcoffees", "coffees", "quantity", "numberofcoffees"),
    "price": ("supportcoffeeprice", "coffeeprice", "price"),
    "amount": ("amount", "total", "totalamount"),
    "currency": ("supportcurrency", "currency"),
    "date": ("supportcreatedon", "createdon", "date", "createdat", "supportdate"),
    "note": ("supportnote", "note", "message"),
    "refunded": ("isrefunded", "refunded"),
    "status": ("status", "paymentstatus"),
    "transaction": ("transactionid",),
}
YES = {"1", "yes", "y", "true", "refunded"}
NO = {"", "0", "no", "n", "false", "null", "none"}
# An amount as an export writes one: digits, thousands commas in threes, a point, cents.
_AMOUNT = re.compile(r"^\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
REQUIRED = ("id", "email", "currency", "date")
MAX_BYTES = 50_000_000  # an export of every supporter is far smaller


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


class CsvPayments:
    """The payments of one CSV file (supports: an export lists one-off supporters)."""

    requests = 0  # nothing is asked of any server

    def __init__(self, path: Path) -> None:
        self.path = path
        self._payments = _read(path)

    def close(self) -> None:
        pass

    def __enter__(self) -> CsvPayments:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def payment(self, kind: str, payment_id: int) -> Payment | None:
        return next((p for p in self.payments(kind) if p.id == payment_id), None)

    def payments(
        self,
        kind: str,
        since: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> list[Payment]:
        if kind != "support":
            return []  # a supporters export holds no extras or memberships
        return [p for p in self._payments if since is None or p.created >= since]


def _read(path: Path) -> list[Payment]:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(FIELD, f"{path} is over {MAX_BYTES // 1_000_000} MB: not an export")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        raise InputError(FIELD, f"can't read {path} ({error.strerror})") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(FIELD, f"{path} is not a UTF-8 CSV file ({error})") from None
    if not rows:
        raise InputError(FIELD, f"{path} is empty")
    header = [_fold(name) for name in rows[0]]
    at = {
        field: next((header.index(n) for n in names if n in header), None)
        for field, names in COLUMNS.items()
    }
    missing = [f for f in REQUIRED if at[f] is None]
    if at["amount"] is None and (at["coffees"] is None or at["price"] is None):
        missing.append("amount (or coffees and price)")
    if missing:
        raise InputError(
            FIELD, f"{path} has no column for {', '.join(missing)} (its header: {rows[0][:12]})"
        )
    payments: dict[int, Payment] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        payment = _payment(row, at, number)
        if payment.id in payments:
            raise InputError(FIELD, f"line {number} repeats support {payment.id}")
        payments[payment.id] = payment
    return sorted(payments.values(), key=lambda p: (p.created, p.id), reverse=True)


def _payment(row: list[str], at: dict[str, int | None], line: int) -> Payment:
    def cell(field: str) -> str:
        index = at[field]
        return row[index].strip() if index is not None and index < len(row) else ""

    try:
        coffees = int(cell("coffees")) if cell("coffees") else None
        price = _amount(cell("price"), "price") if cell("price") else None
        if cell("amount"):
            amount = _amount(cell("amount"), "amount")
        elif coffees is not None and price is not None:
            amount = coffees * price
        else:
            raise ValueError("no amount")
        refunded = _refunded(cell("refunded") if at["refunded"] is not None else "")
        if at["refunded"] is None and at["status"] is not None:
            refunded = cell("status").lower() == "refunded"
        return Payment(
            kind="support",
            id=int(cell("id")),
            payer_name=cell("name"),
            payer_email=cell("email"),
            amount=amount.quantize(Decimal("0.01")),
            currency=cell("currency").upper(),
            created=_when(cell("date")),
            refunded=refunded,
            coffees=coffees,
            price=price,
            note=cell("note"),
            transaction_id=cell("transaction"),
        )
    except (ValueError, InvalidOperation) as error:
        raise InputError(FIELD, f"line {line} can't be read as a payment ({error})") from None


def _amount(text: str, name: str) -> Decimal:
    """An amount as an export writes it; a comma that isn't a thousands separator (5,00) is
    refused rather than read as 500."""
    if not _AMOUNT.match(text):
        raise ValueError(f"{name} {text[:30]!r} is not an amount like 1,234.50")
    return Decimal(text.lstrip("$").replace(",", ""))


def _refunded(text: str) -> bool:
    word = text.strip().lower()
    if word not in YES | NO:
        raise ValueError(f"refunded is {text[:20]!r}, not yes or no")
    return word in YES


def _when(text: str) -> datetime:
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
