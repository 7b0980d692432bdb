"""A COMMIT whose reply is lost (issue 13.2): a proxy forwards a write's COMMIT to the server and
then cuts the client off. The server committed; the app must not say "nothing was done" (the
operator's retry would then be a double grant). It asks the database on a new connection, reports
what is there, and records the outcome in the audit log. Also: a COMMIT that never reached the
server (rolled back: safe to retry), a database that stays away (outcome unknown, exit 3), and the
app killed while its COMMIT is on the wire (the intent line already names the write)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from adminui import audit
from adminui.db import Database
from adminui.errors import DatabaseError, OutcomeUnknownError
from adminui.ops import backups, credits, orphans, writes
from tests.commit_cutter import CommitCutter, commit_cutter
from tests.conftest import PG_PASSWORD, lone_pending_receipt, raw_engine, run, scalar, start_cli
from tests.orphan_rows import change, plant, table_rows

OPERATOR = "jordan"
PAID = "SELECT paid_credits_remaining FROM usage_tracking WHERE user_id = :u"


@pytest.fixture
def cutter(pg_server) -> Iterator[CommitCutter]:
    with commit_cutter(pg_server.port) as proxy:
        yield proxy


@pytest.fixture
def proxied(pg_db: Database, cutter: CommitCutter) -> Iterator[Database]:
    """The test database, reached through the proxy."""
    profile = dataclasses.replace(pg_db.profile, url=pg_db.profile.url.set(port=cutter.port))
    db = Database(profile, PG_PASSWORD)
    yield db
    db.dispose()


def a_user(db: Database) -> str:
    return str(scalar(db, "SELECT user_id FROM usage_tracking ORDER BY user_id LIMIT 1"))


def grant(db: Database, user_id: str, ref: str = "BMC-LOST-1") -> credits.GrantResult:
    parsed = credits.parse_grant(5, "5.00", ref, max_credits=10_000)
    return credits.grant_credits(db, user_id, parsed, OPERATOR)


def test_a_grant_whose_commit_reply_is_lost_is_reported_committed(
    pg_db: Database, proxied: Database, cutter: CommitCutter
) -> None:
    user_id = a_user(pg_db)
    before = scalar(pg_db, PAID, u=user_id)
    cutter.arm("cut")
    result = grant(proxied, user_id)
    assert cutter.cut.is_set()  # the reply really was lost
    assert result.warning and "lost while committing" in result.warning
    assert "committed (shown here)" in result.warning
    assert scalar(pg_db, PAID, u=user_id) == before + 5
    assert scalar(pg_db, "SELECT status FROM payment_receipts WHERE id = :i", i=result.receipt_id)
    [entry] = audit.writes()
    assert entry["ids"] == {"receipt_id": result.receipt_id} and entry["xid"]
    assert (entry["outcome"], entry["outcome_detail"]) == (
        "committed",
        "reply to COMMIT lost; checked: committed and read back",
    )
    # The operator, told it is done, does not retry; one who does is refused as a duplicate.
    with pytest.raises(Exception, match="already on 1 receipt"):
        grant(proxied, user_id)
    assert scalar(pg_db, PAID, u=user_id) == before + 5


def test_verify_and_refund_whose_commit_reply_is_lost_are_reported_committed(
    pg_db: Database, proxied: Database, cutter: CommitCutter
) -> None:
    receipt = lone_pending_receipt(pg_db)
    cutter.arm("cut")
    verified = credits.verify_receipt(proxied, receipt, OPERATOR)
    assert cutter.cut.is_set() and verified.warning and "committed (shown here)" in verified.warning
    assert verified.receipt.status == "verified"  # read back on the new connection
    cutter.arm("cut")
    refunded = credits.refund_receipt(proxied, receipt, "chargeback", OPERATOR)
    assert cutter.cut.is_set() and refunded.warning and "committed (shown here)" in refunded.warning
    status = "SELECT status FROM payment_receipts WHERE id = :i"
    assert scalar(pg_db, status, i=receipt) == "refunded"
    assert [(w["operation"], w["outcome"]) for w in audit.writes()] == [
        ("verify", "committed"),
        ("refund", "committed"),
    ]


def test_a_clean_whose_commit_reply_is_lost_is_reported_committed(
    pg_db: Database, proxied: Database, cutter: CommitCutter, tmp_path: Path
) -> None:
    ids = plant(pg_db, "ideas.user_id", 3)
    check = orphans.get_check("ideas.user_id")
    saved = backups.backup(proxied, check, tmp_path / "b.jsonl")
    cutter.arm("cut")
    result = orphans.clean(proxied, saved, OPERATOR)
    assert cutter.cut.is_set() and result.warning and "committed (shown here)" in result.warning
    assert result.acted_on == 3 and result.remaining == 0
    left = "SELECT COUNT(*) FROM ideas WHERE id = ANY(CAST(:ids AS uuid[]))"
    assert scalar(pg_db, left, ids=ids) == 0


def test_a_commit_that_never_reached_the_server_is_rolled_back_and_said_so(
    pg_db: Database, proxied: Database, cutter: CommitCutter
) -> None:
    user_id = a_user(pg_db)
    before = table_rows(pg_db, "payment_receipts"), scalar(pg_db, PAID, u=user_id)
    cutter.arm("drop")
    with pytest.raises(
        DatabaseError, match=r"not committed \(rolled back\): nothing was changed"
    ) as caught:
        grant(proxied, user_id)
    assert "can be tried again" in str(caught.value)
    assert (table_rows(pg_db, "payment_receipts"), scalar(pg_db, PAID, u=user_id)) == before
    [entry] = audit.writes()
    assert (entry["outcome"], entry["outcome_detail"]) == (
        "rolled back",
        "reply to COMMIT lost; checked: rolled back",
    )
    assert grant(proxied, user_id).warning is None  # and the retry is a normal grant


def test_a_database_that_stays_away_leaves_the_outcome_unknown(
    pg_db: Database,
    proxied: Database,
    cutter: CommitCutter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writes, "SETTLE_SECONDS", 1.0)
    user_id = a_user(pg_db)
    cutter.arm("cut", then_refuse=True)  # from the cut on, nothing reaches the database
    with pytest.raises(OutcomeUnknownError) as caught:
        grant(proxied, user_id, "BMC-UNKNOWN")
    told = str(caught.value)
    receipt = str(
        scalar(pg_db, "SELECT id FROM payment_receipts WHERE bmc_reference = 'BMC-UNKNOWN'")
    )
    assert caught.value.exit_code == 3 and receipt in told and "may or may not" in told
    [entry] = audit.writes()
    assert entry["outcome"] == "unknown" and entry["ids"] == {"receipt_id": receipt}
    assert [w["ids"] for w in audit.verify().unknown] == [{"receipt_id": receipt}]


def test_the_cli_reports_a_lost_commit_reply_as_done(
    pg_db: Database, cutter: CommitCutter, capsys
) -> None:
    url = pg_db.profile.url.set(port=cutter.port, password=PG_PASSWORD)
    email = str(scalar(pg_db, "SELECT email FROM users ORDER BY email LIMIT 1"))
    cutter.arm("cut")
    code, out, err = run(
        capsys,
        "grant",
        email,
        "5",
        "5.00",
        "--ref",
        "BMC-CLI-LOST",
        "--yes",
        "--url",
        url.render_as_string(hide_password=False),
    )
    assert cutter.cut.is_set()
    assert code == 0, err
    assert "Credits granted successfully" in out and "committed (shown here)" in err
    count = "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-CLI-LOST'"
    assert scalar(pg_db, count) == 1


def test_a_grant_killed_while_its_commit_is_on_the_wire_has_its_audit_line(
    pg_db: Database, cutter: CommitCutter, tmp_path: Path
) -> None:
    """The crash the attack found (3 of 3 left no line): the app dies after sending COMMIT;
    the server commits. The intent line, fsynced before COMMIT, names the receipt."""
    log = Path(os.environ.get(audit.AUDIT_ENV) or audit.audit_path())
    url = pg_db.profile.url.set(port=cutter.port, password=PG_PASSWORD)
    email = str(scalar(pg_db, "SELECT email FROM users ORDER BY email LIMIT 1"))
    cutter.arm("hold")
    child = granting(
        email,
        "BMC-KILLED",
        url.render_as_string(hide_password=False),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert cutter.held.wait(30), "the grant never sent its COMMIT"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        cutter.release()  # the COMMIT reaches the server after the app is gone
        assert cutter.cut.wait(10)
    finally:
        child.kill()
    receipt = "SELECT CAST(id AS text) FROM payment_receipts WHERE bmc_reference = 'BMC-KILLED'"
    deadline = time.monotonic() + 10
    while scalar(pg_db, receipt) is None:
        assert time.monotonic() < deadline, "the held COMMIT never committed"
        time.sleep(0.1)
    [entry] = audit.writes(log)
    assert entry["ids"] == {"receipt_id": scalar(pg_db, receipt)} and entry["outcome"] is None
    assert [w["ids"] for w in audit.verify(log).open_writes] == [entry["ids"]]


def test_a_lost_commit_then_a_crash_is_not_taken_for_another_transactions_commit(
    pg_server, pg_db: Database, proxied: Database, cutter: CommitCutter
) -> None:
    """The grant's COMMIT never reaches the server, which then crashes: its transaction id was
    never written, so the restarted server hands it to another client's transaction, whose
    status is 'committed'. Asking the status alone, the grant was reported and audited as
    committed with no receipt in the database; the restart is now seen and the receipt looked
    up: not there, so not committed."""
    user_id = a_user(pg_db)
    before = scalar(pg_db, PAID, u=user_id)
    change(pg_db, "CREATE TABLE traffic (n bigint)")
    change(pg_db, "CHECKPOINT")
    outcome: list[object] = []
    cutter.arm("hold")
    worker = threading.Thread(target=lambda: outcome.append(_attempt(proxied, user_id)))
    worker.start()
    try:
        assert cutter.held.wait(30), "the grant never sent its COMMIT"
        [intent] = audit.writes()
        pg_server.stop("immediate")  # a crash: the held COMMIT never arrives
    finally:
        cutter.release()
        pg_server.start()
    engine = raw_engine(pg_db)
    for _ in range(100):  # other clients' traffic, until one gets the grant's id
        with engine.begin() as conn:
            xid = int(conn.execute(text("SELECT pg_current_xact_id()::text")).scalar_one())
            conn.execute(text("INSERT INTO traffic VALUES (:n)"), {"n": xid})
        if xid >= int(intent["xid"]):
            break
    engine.dispose()
    worker.join(60)
    [error] = outcome
    assert isinstance(error, DatabaseError) and "not committed (not in the database)" in str(error)
    count = "SELECT COUNT(*) FROM payment_receipts WHERE bmc_reference = 'BMC-LOST-1'"
    assert (scalar(pg_db, count), scalar(pg_db, PAID, u=user_id)) == (0, before)
    [entry] = audit.writes()
    assert (entry["outcome"], entry["outcome_detail"]) == (
        "rolled back",
        "reply to COMMIT lost; checked: not in the database",
    )


def granting(email: str, ref: str, url: str, **popen: object) -> subprocess.Popen[str]:
    """`adminui grant EMAIL 5 5.00 --ref REF --yes --url URL` started in a process of its own."""
    return start_cli("grant", email, "5", "5.00", "--ref", ref, "--yes", "--url", url, **popen)


def _attempt(db: Database, user_id: str) -> object:
    try:
        return grant(db, user_id)
    except Exception as error:  # handed to the test
        return error


def test_ctrl_c_while_commit_waits_is_settled_not_called_rolled_back(
    pg_server, pg_db: Database
) -> None:
    """COMMIT waits (for a synchronous standby that is down; a slow disk does the same) and the
    operator presses Ctrl-C: the driver cancels the wait, PostgreSQL keeps the commit. It was
    audited 'rolled back' and the CLI said nothing was done; now it is asked and reported."""
    email = str(scalar(pg_db, "SELECT email FROM users ORDER BY email LIMIT 1"))
    url = pg_db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
    pg_server.psql("ALTER SYSTEM SET synchronous_standby_names = 'standby_that_is_down'")
    pg_server.psql("SELECT pg_reload_conf()")
    try:
        child = granting(email, "BMC-CTRL-C", url, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
        deadline = time.monotonic() + 30
        while not scalar(pg_db, waiting):
            assert child.poll() is None and time.monotonic() < deadline, "no COMMIT waited"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        pg_server.psql("ALTER SYSTEM RESET synchronous_standby_names")
        pg_server.psql("SELECT pg_reload_conf()")
    committed = "SELECT status FROM payment_receipts WHERE bmc_reference = 'BMC-CTRL-C'"
    assert scalar(pg_db, committed) == "verified"
    assert child.returncode == 0, err
    assert "Credits granted successfully" in out and "committed (shown here)" in err
    [entry] = audit.writes()
    assert entry["outcome"] == "committed"
