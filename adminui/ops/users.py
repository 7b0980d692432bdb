"""User lookup: find users by email, name, id prefix or payment reference; one user's usage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from adminui.db import Database
from adminui.errors import InputError, NotFoundError
from adminui.ops.values import as_bool, as_datetime, as_id, as_money, first_line, like_pattern

MIN_SEARCH = 3  # pg_trgm indexes need 3 characters; shorter matches are noise anyway
DEFAULT_LIMIT = 100
ID_PREFIX_MIN = 4
RECENT_EXECUTIONS = 10
_HEX = re.compile(r"^[0-9a-f]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class UserRow:
    """One user in a list: who, when, and their credits (None when usage_tracking is missing)."""

    id: str
    email: str
    name: str | None
    free_expansions_remaining: int | None
    paid_credits_remaining: int | None
    total: int | None
    created_at: datetime | None


@dataclass(frozen=True)
class UserList:
    """A list of users; `capped` when more matched than `limit` (the list is not complete)."""

    rows: tuple[UserRow, ...]
    limit: int
    capped: bool

    def describe(self) -> str:
        """'3 users', or '100 of more than 100 users' when capped."""
        if self.capped:
            return f"{len(self.rows)} of more than {self.limit} users"
        return f"{len(self.rows)} user{'' if len(self.rows) == 1 else 's'}"


@dataclass(frozen=True)
class ExecutionLine:
    """One execution in a user's history."""

    id: str
    started_at: datetime | None
    status: str | None
    format_chosen: str | None
    error_step: str | None
    error: str  # first line of error_message
    tokens_used: int | None
    duration_seconds: int | None


@dataclass(frozen=True)
class ReceiptLine:
    """One payment receipt of a user."""

    id: str
    created_at: datetime | None
    amount_usd: Decimal | None
    credits_purchased: int
    bmc_reference: str | None
    status: str
    verified_by: str | None
    verified_at: datetime | None
    notes: str | None


@dataclass(frozen=True)
class CredentialLine:
    """A credential's provider and state; its encrypted value is never read."""

    provider: str
    is_active: bool | None
    validation_status: str | None
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class UserDetail:
    """Everything support looks at for one user. Credit fields are None without usage_tracking."""

    id: str
    email: str
    name: str | None
    timezone: str | None
    created_at: datetime | None
    updated_at: datetime | None
    has_usage_tracking: bool
    free_expansions_remaining: int | None
    paid_credits_remaining: int | None
    total: int | None
    total_expansions_used: int | None
    total_free_used: int | None
    total_paid_used: int | None
    ideas: int
    outputs: int
    total_executions: int
    successful: int
    failed: int
    partial: int
    running: int
    total_tokens: int
    recent_executions: tuple[ExecutionLine, ...]
    receipts: tuple[ReceiptLine, ...]
    credentials: tuple[CredentialLine, ...]


def id_prefix_range(text: str) -> tuple[str | None, str | None]:
    """The lowest and highest UUIDs starting with the hex digits typed, so the primary key's
    index answers an id-prefix search; (None, None) when the text can't be an id prefix."""
    digits = text.lower().replace("-", "")
    if not (ID_PREFIX_MIN <= len(digits) <= 32 and _HEX.match(digits)):
        return None, None

    def canonical(hex32: str) -> str:
        return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"

    return canonical(digits.ljust(32, "0")), canonical(digits.ljust(32, "f"))


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= 10_000:
        raise InputError("limit", "must be between 1 and 10,000")
    return limit


def _user_list(rows: list[Any], limit: int) -> UserList:
    users = tuple(
        UserRow(
            id=as_id(r["id"]),
            email=r["email"],
            name=r["name"],
            free_expansions_remaining=r["free_expansions_remaining"],
            paid_credits_remaining=r["paid_credits_remaining"],
            total=r["total"],
            created_at=as_datetime(r["created_at"]),
        )
        for r in rows[:limit]
    )
    return UserList(users, limit, capped=len(rows) > limit)


def recent_users(db: Database, limit: int = DEFAULT_LIMIT) -> UserList:
    """The newest users, for the lookup screen before anything is typed."""
    limit = _check_limit(limit)
    return _user_list(db.rows("recent_users", limit=limit + 1), limit)


def find_users(db: Database, text: str, limit: int = DEFAULT_LIMIT) -> UserList:
    """Users whose email, name or payment reference contains `text` (any case), or whose id
    starts with it; newest first. Refuses text too short to search without scanning for noise."""
    limit = _check_limit(limit)
    text = text.strip()
    if len(text) < MIN_SEARCH:
        raise InputError("search", f"type at least {MIN_SEARCH} characters")
    if "\x00" in text:  # PostgreSQL text can't hold NUL, so nothing stored can contain it
        return UserList((), limit, capped=False)
    id_low, id_high = id_prefix_range(text)
    rows = db.rows(
        "find_users", pattern=like_pattern(text), id_low=id_low, id_high=id_high, limit=limit + 1
    )
    return _user_list(rows, limit)


def resolve_user(db: Database, key: str) -> str:
    """The id of the user named by an email (any case) or a full id; NotFoundError otherwise."""
    key = key.strip()
    if "\x00" in key or not key:
        raise NotFoundError("No user has that email or id.")
    if _UUID.match(key.lower()):
        if db.one("get_user", user_id=key.lower()) is None:
            raise NotFoundError(f"No user has the id {key}.")
        return key.lower()
    with db.read() as tx:
        rows = tx.rows("user_ids_by_email", email=key) or tx.rows("user_ids_by_email_ci", email=key)
    if not rows:
        if re.fullmatch(r"[0-9a-fA-F-]{1,35}", key):
            raise NotFoundError(
                f"No user has the email or id {key!r}: an id is whole (36 characters); a "
                "search finds users by the first characters of theirs."
            )
        raise NotFoundError(f"No user has the email {key[:80]!r}.")
    if len(rows) > 1:
        raise NotFoundError(
            f"{len(rows)} users have the email {key[:80]!r} in other cases; use the id."
        )
    return as_id(rows[0]["id"])


def get_user_detail(db: Database, user_id: str) -> UserDetail:
    """One user's profile, credits, activity counts, latest executions, receipts, credentials;
    all read in one transaction so the numbers agree with each other."""
    with db.read() as tx:
        user = tx.one("get_user", user_id=user_id)
        if user is None:
            raise NotFoundError(f"No user has the id {user_id}.")
        counts = tx.one("user_content_counts", user_id=user_id)
        summary = tx.one("user_execution_summary", user_id=user_id)
        executions = tx.rows("user_recent_executions", user_id=user_id, limit=RECENT_EXECUTIONS)
        receipts = tx.rows("user_receipts", user_id=user_id)
        credentials = tx.rows("user_credentials", user_id=user_id)
    assert counts is not None and summary is not None  # aggregates always return one row
    has_usage = bool(user["has_usage_tracking"])
    free, paid = user["free_expansions_remaining"], user["paid_credits_remaining"]
    return UserDetail(
        id=as_id(user["id"]),
        email=user["email"],
        name=user["name"],
        timezone=user["timezone"],
        created_at=as_datetime(user["created_at"]),
        updated_at=as_datetime(user["updated_at"]),
        has_usage_tracking=has_usage,
        free_expansions_remaining=free,
        paid_credits_remaining=paid,
        total=free + paid if has_usage else None,
        total_expansions_used=user["total_expansions_used"],
        total_free_used=user["total_free_used"],
        total_paid_used=user["total_paid_used"],
        ideas=counts["ideas"],
        outputs=counts["outputs"],
        total_executions=summary["total_executions"],
        successful=summary["successful"],
        failed=summary["failed"],
        partial=summary["partial"],
        running=summary["running"],
        total_tokens=int(summary["total_tokens"] or 0),
        recent_executions=tuple(
            ExecutionLine(
                id=as_id(e["id"]),
                started_at=as_datetime(e["started_at"]),
                status=e["status"],
                format_chosen=e["format_chosen"],
                error_step=e["error_step"],
                error=first_line(e["error_message"]),
                tokens_used=e["tokens_used"],
                duration_seconds=e["duration_seconds"],
            )
            for e in executions
        ),
        receipts=tuple(
            ReceiptLine(
                id=as_id(r["id"]),
                created_at=as_datetime(r["created_at"]),
                amount_usd=as_money(r["amount_usd"]),
                credits_purchased=r["credits_purchased"],
                bmc_reference=r["bmc_reference"],
                status=r["status"],
                verified_by=r["verified_by"],
                verified_at=as_datetime(r["verified_at"]),
                notes=r["notes"],
            )
            for r in receipts
        ),
        credentials=tuple(
            CredentialLine(
                provider=c["provider"],
                is_active=as_bool(c["is_active"]),
                validation_status=c["validation_status"],
                created_at=as_datetime(c["created_at"]),
                updated_at=as_datetime(c["updated_at"]),
            )
            for c in credentials
        ),
    )
