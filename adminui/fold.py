"""Case folding as PostgreSQL's lower() does it: each character by itself, to one character (the
simple case mapping). Python's str.lower maps `İ` to two characters and a word-final `Σ` to `ς`,
so a key it builds is not the key the database compares.

On SQLite this is registered as `adminui_fold` (the vetted SQLite statements call it), never in
place of the built-in `lower`: an index, CHECK or trigger of the product that uses `lower` must
compute the same keys on adminui's connections as on every other (else an expression index on
lower(...) is corrupted by adminui's writes and misses its rows on adminui's reads).
"""

from __future__ import annotations

from typing import Any

SQLITE_NAME = "adminui_fold"


def fold(value: Any) -> Any:
    """Text folded to lower case character by character; anything else unchanged (NULL)."""
    if not isinstance(value, str):
        return value
    return "".join(char.lower()[0] for char in value)
