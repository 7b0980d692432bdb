"""A profile's read_url (#19): the summaries, scans and lists read the replica; lookups that
precede a write, and every write, use the primary; nothing is ever written to the replica.

The replica here is another database of the test server, a copy of the primary made different
on purpose, so every read shows where it went."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator

import pytest

from adminui.db import Database
from adminui.errors import ReadOnlyError
from adminui.ops import credits, executions, payments, users
from tests.conftest import PG_PASSWORD, PgServer, pg_profile, scalar

COUNT_RECEIPTS = "SELECT count(*) FROM payment_receipts"


@pytest.fixture
def replica(pg_server: PgServer, pg_template: str) -> Iterator[Database]:
    """A copy of the fixture database without its receipts and runs, as a replica to read."""
    name = f"r_{uuid.uuid4().hex[:12]}"
    pg_server.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    pg_server.psql("DELETE FROM payment_receipts; DELETE FROM executions;", database=name)
    db = Database(pg_profile(pg_server, name), PG_PASSWORD)
    yield db
    db.dispose()
    pg_server.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def both(pg_db: Database, replica: Database) -> Iterator[Database]:
    """The primary, with the replica as its read_url."""
    profile = dataclasses.replace(pg_db.profile, read_url=replica.profile.url)
    db = Database(profile, PG_PASSWORD)
    yield db
    db.dispose()


def test_summaries_and_lists_read_the_replica(both: Database, pg_db: Database) -> None:
    assert scalar(pg_db, COUNT_RECEIPTS)  # the primary has receipts and runs; the replica none
    assert all(total.receipts == 0 for total in payments.by_status(both))
    read = payments.summaries(both, 12)
    assert read.payers == () and read.overview.pending == 0
    assert payments.list_payments(both).rows == ()
    assert executions.list_executions(both).rows == ()


def test_lookups_before_a_write_and_the_write_use_the_primary(
    both: Database, pg_db: Database, replica: Database
) -> None:
    pending = credits.pending_receipts(both)  # the queue an operator verifies from
    assert len(pending) == scalar(
        pg_db, "SELECT count(*) FROM payment_receipts WHERE status = 'pending'"
    )
    email = scalar(
        pg_db, "SELECT u.email FROM users u JOIN payment_receipts r ON r.user_id = u.id LIMIT 1"
    )
    user_id = users.find_users(both, str(email)).rows[0].id
    detail = users.get_user_detail(both, user_id)
    assert detail.receipts  # the replica has none
    grant = credits.parse_grant(3, "3.00", "REL-PRIMARY", max_credits=10)
    preview = credits.preview_grant(both, user_id, grant)
    before = scalar(pg_db, COUNT_RECEIPTS)
    credits.grant_credits(both, preview.user_id, grant, "jordan")
    assert scalar(pg_db, COUNT_RECEIPTS) == before + 1
    assert scalar(replica, COUNT_RECEIPTS) == 0


def test_the_replica_is_never_written_and_esc_reaches_it(both: Database) -> None:
    with pytest.raises(ReadOnlyError, match="a read replica"), both.replica.write():
        pass
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with both.replica.read() as tx:
            tx.rows("recent_users", limit=1)
            inside.set()
            release.wait(10)

    reader = threading.Thread(target=hold)
    reader.start()
    try:
        assert inside.wait(10)
        assert both.running == 1  # the TUI's Esc is offered while a replica read runs
        assert both.cancel_running() == 1
    finally:
        release.set()
        reader.join(10)
