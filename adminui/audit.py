"""The audit log: one JSON line per write, appended to a file in the platform state dir.

Each line says who did what where: time, operator, profile, database host, operation, inputs,
ids written, and the totals before and after. It is flushed and fsynced before the operation
returns, so a write the operator was told about is always on disk.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from adminui.config import APP_NAME, Profile
from adminui.output import json_value

AUDIT_ENV = "ADMINUI_AUDIT_LOG"


def audit_path() -> Path:
    """$ADMINUI_AUDIT_LOG, else audit.jsonl in the platform state dir."""
    if os.environ.get(AUDIT_ENV):
        return Path(os.environ[AUDIT_ENV]).expanduser()
    return platformdirs.user_state_path(APP_NAME) / "audit.jsonl"


def record(
    profile: Profile,
    operator: str,
    operation: str,
    inputs: dict[str, Any],
    ids: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    """Append one audit line and return what was written."""
    entry = {
        "time": datetime.now(UTC).isoformat(),
        "operator": operator,
        "profile": profile.name,
        "host": profile.where,
        "operation": operation,
        "inputs": inputs,
        "ids": ids,
        "before": before,
        "after": after,
    }
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(json_value(entry), ensure_ascii=False, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def try_record(
    profile: Profile,
    operator: str,
    operation: str,
    *,
    inputs: dict[str, Any],
    ids: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
) -> str | None:
    """Append the audit line after a committed write. A failure here is a warning for the
    operator (returned), not an error that would suggest the write did not happen."""
    try:
        record(profile, operator, operation, inputs, ids, before, after)
    except Exception as error:  # the write is committed: never report it as failed
        return (
            f"The change was committed, but the audit line could not be written to "
            f"{audit_path()}: {getattr(error, 'strerror', None) or error}."
        )
    return None
