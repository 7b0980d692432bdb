"""JSON that keeps numbers exact, for backups that must put rows back as they were.

Python's json reads `19.999999999999999999` as the float 20.0 and `1.10` as 1.1; PostgreSQL's
jsonb keeps both as written (numeric). Backups read jsonb with `loads` (numbers with a fraction or
exponent become Decimal) and write it with `dumps` (a Decimal is written as its digits), so a
restored row equals the deleted one.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as a Decimal; NaN and Infinity are refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def dumps(value: Any) -> str:
    """One line of JSON: Decimals as their exact digits (never in exponent form), times in ISO
    8601, text as UTF-8 (not \\u escapes); keys in the order given."""
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else json.dumps(str(value))
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(key), ensure_ascii=False)}: {dumps(v)}" for key, v in value.items()
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    if isinstance(value, datetime):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)
