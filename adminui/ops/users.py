"""User lookup, for any pack: find users (by email and name, and what else its find_users
searches: Idea Expansion's id prefixes and payment references, fltr's ids, teams and API keys),
resolve one from an email or id, and read one user's detail as its manifest's [lookup] lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adminui.db import Database
from adminui.errors import InputError, NotFoundError, SetupError
from adminui.ops.records import Record, record, records
from adminui.ops.values import like_pattern

MIN_SEARCH = 3  # pg_trgm indexes need 3 characters; shorter matches are noise anyway
DEFAULT_LIMIT = 100
ID_PREFIX_MIN = 4
_HEX = re.compile(r"^[0-9a-f]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


UserRow = Record  # one user in a list: the columns the pack's find_users returns
UserDetail = Record  # one user's detail: the columns and lists of the pack's [lookup] reads


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


def _user_list(db: Database, rows: list[Any], limit: int) -> UserList:
    return UserList(records(db.pack, rows[:limit]), limit, capped=len(rows) > limit)


def _bound(db: Database, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values a statement declares, of those given (each pack's search binds its own)."""
    return {key: values.get(key) for key in db.statement(name).params}


def recent_users(db: Database, limit: int = DEFAULT_LIMIT) -> UserList:
    """The newest users, for the lookup screen before anything is typed."""
    limit = _check_limit(limit)
    return _user_list(db, db.rows("recent_users", limit=limit + 1), limit)


def find_users(db: Database, text: str, limit: int = DEFAULT_LIMIT) -> UserList:
    """Users whose email, name or payment reference contains `text` (any case), or whose id
    starts with it; newest first. Refuses text too short to search without scanning for noise."""
    limit = _check_limit(limit)
    text = text.strip()
    if len(text) < MIN_SEARCH:
        raise InputError("search", f"type at least {MIN_SEARCH} characters")
    if "\x00" in text:  # PostgreSQL text can't hold NUL, so nothing stored can contain it
        return UserList((), limit, capped=False)
    id_low, id_high = id_prefix_range(text) if db.pack.ids == "uuid" else (None, None)
    pattern = like_pattern(text, folded=db.pack.lookup.case == "unicode")
    values = {"pattern": pattern, "text": text, "id_low": id_low, "id_high": id_high}
    rows = db.rows("find_users", **_bound(db, "find_users", values | {"limit": limit + 1}))
    return _user_list(db, rows, limit)


def resolve_user(db: Database, key: str) -> str:
    """The id of the user named by an email (any case) or a full id; NotFoundError otherwise.
    A UUID is read in any case; a text id (fltr's) exactly as typed."""
    key = key.strip()
    if "\x00" in key or not key:
        raise NotFoundError("No user has that email or id.")
    uuids = db.pack.ids == "uuid"
    if uuids and _UUID.match(key.lower()):
        if db.one("get_user", user_id=key.lower()) is None:
            raise NotFoundError(f"No user has the id {key}.")
        return key.lower()
    # A text id (fltr's, OmniChat's) is asked for with the email's exact form (the email
    # index), in one read; the folded form, a scan, only when both miss.
    asked = [("user_ids_by_email", {"email": key})]
    found = db.read_many(asked if uuids else [("get_user", {"user_id": key}), *asked])
    if not uuids and found[0]:
        return key
    rows = found[-1] or db.rows("user_ids_by_email_ci", email=key)
    if not rows:
        if uuids and re.fullmatch(r"[0-9a-fA-F-]{1,35}", key):
            raise NotFoundError(
                f"No user has the email or id {key!r}: an id is whole (36 characters); a "
                "search finds users by the first characters of theirs."
            )
        raise NotFoundError(f"No user has the email {key[:80]!r}.")
    if len(rows) > 1:
        raise NotFoundError(
            f"{len(rows)} users have the email {key[:80]!r} in other cases; use the id."
        )
    return str(record(db.pack, rows[0])["id"])


def get_user_detail(db: Database, user_id: str, now: datetime | None = None) -> UserDetail:
    """One user's detail: the pack's [lookup] reads in order, the first one's row being the
    user; the reads of one database in one transaction, so their numbers agree. A read of a
    database the profile doesn't name is left out, and `unreachable` says why. A read over a
    window ("the last 30 days") ends at `now` (default: the clock's)."""
    pack, found, unreachable = db.pack, {}, []
    now = now or datetime.now(UTC)
    reads = pack.lookup.reads
    for database in dict.fromkeys(read.database for read in reads):
        mine = [read for read in reads if read.database == database]
        try:
            target = db.on(database, "the user's " + ", ".join(r.list or r.statement for r in mine))
        except SetupError as error:
            unreachable.append(str(error))
            continue
        asked = [
            (
                read.statement,
                _bound(
                    target, read.statement, {"user_id": user_id, "limit": read.limit, "now": now}
                ),
            )
            for read in mine
        ]
        for read, rows in zip(mine, target.read_many(asked), strict=True):  # one round trip
            if read.list:
                found[read.list] = records(pack, rows)
            elif not rows:
                raise NotFoundError(f"No user has the id {user_id}.")
            else:
                found.update(record(pack, rows[0]))
    if unreachable:
        found["unreachable"] = " ".join(unreachable)
    return Record(found)
