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
    "transaction": ("transactionid",),
}
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
    payments = [
        _payment(row, at, number) for number, row in enumerate(rows[1:], start=2) if any(row)
    ]
    return sorted(payments, key=lambda p: (p.created, p.id), reverse=True)


def _payment(row: list[str], at: dict[str, int | None], line: int) -> Payment:
    def cell(field: str) -> str:
        index = at[field]
        return row[index].strip() if index is not None and index < len(row) else ""

    try:
        coffees = int(cell("coffees")) if cell("coffees") else None
        price = Decimal(cell("price").lstrip("$")) if cell("price") else None
        if cell("amount"):
            amount = Decimal(cell("amount").lstrip("$").replace(",", ""))
        elif coffees is not None and price is not None:
            amount = coffees * price
        else:
            raise ValueError("no amount")
        return Payment(
            kind="support",
            id=int(cell("id")),
            payer_name=cell("name"),
            payer_email=cell("email"),
            amount=amount.quantize(Decimal("0.01")),
            currency=cell("currency").upper(),
            created=_when(cell("date")),
            refunded=cell("refunded").lower() not in ("", "0", "no", "false", "null"),
            coffees=coffees,
            price=price,
            note=cell("note"),
            transaction_id=cell("transaction"),
        )
    except (ValueError, InvalidOperation) as error:
        raise InputError(FIELD, f"line {line} can't be read as a payment ({error})") from None


def _when(text: str) -> datetime:
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
