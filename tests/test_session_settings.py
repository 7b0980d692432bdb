"""Settings a database, a role or the environment gives the session can't break or weaken the
app's work: DateStyle, IntervalStyle and client encoding (every screen failed with a
traceback), synchronous_commit = off (a grant shown committed was lost in a crash)."""

from __future__ import annotations

import pytest

from adminui.db import Database
from adminui.ops import credits, users
from tests.conftest import PG_PASSWORD, scalar

STEERING = (
    "DateStyle = 'SQL, DMY'",
    "IntervalStyle = 'sql_standard'",
    "client_encoding = 'LATIN1'",
    "synchronous_commit = off",
)


@pytest.mark.parametrize("route", ["database", "environment"])
def test_the_sessions_own_settings_are_overridden(
    pg_server, pg_db: Database, route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if route == "database":
        for setting in STEERING:
            pg_server.psql(f"ALTER DATABASE {pg_db.profile.url.database} SET {setting}")
    else:
        monkeypatch.setenv("PGDATESTYLE", "SQL, DMY")
        monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    db = Database(pg_db.profile, PG_PASSWORD)  # new connections get them
    user_id = str(scalar(db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))
    detail = users.get_user_detail(db, user_id)
    assert detail.created_at is not None and detail.created_at.tzinfo is not None
    parsed = credits.parse_grant(5, "5.00", "REL-İ-SETTINGS", max_credits=10_000)
    result = credits.grant_credits(db, user_id, parsed, "jordan")
    assert result.bmc_reference == "REL-İ-SETTINGS"
    with db.write() as tx:
        settings = {
            name: tx.driver_connection.execute(f"SHOW {name}").fetchone()[0]
            for name in ("DateStyle", "synchronous_commit", "client_encoding")
        }
    assert settings == {
        "DateStyle": "ISO, MDY",
        "synchronous_commit": "on",
        "client_encoding": "UTF8",
    }
    db.dispose()
