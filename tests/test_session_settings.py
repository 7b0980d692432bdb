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


def test_a_column_the_deployed_schema_made_an_enum_reads_as_text(
    pg_server, pg_db: Database
) -> None:
    """A product may declare a status as an enum type where the reference has text: psycopg
    has no loader for the type, and must give its label as text (read in binary, a bare
    fallback gives bytes, and b'pending' != 'pending' hid every pending receipt)."""
    database = pg_db.profile.url.database
    pg_server.psql(
        "CREATE TYPE receipt_status AS ENUM ('pending', 'verified', 'refunded');"
        "ALTER TABLE payment_receipts DROP CONSTRAINT payment_receipts_status_check,"
        " ALTER COLUMN status DROP DEFAULT;"
        "ALTER TABLE payment_receipts ALTER COLUMN status TYPE receipt_status"
        " USING status::receipt_status;"
        "ALTER TABLE payment_receipts ALTER COLUMN status SET DEFAULT 'verified';",
        database=database,
    )
    expected = scalar(pg_db, "SELECT count(*) FROM payment_receipts WHERE status = 'pending'")
    pending = credits.pending_receipts(pg_db)
    assert expected and len(pending) == expected
    assert {r.status for r in pending} == {"pending"}
    assert all(type(r.status) is str for r in pending)
