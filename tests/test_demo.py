"""The demo database: deterministic, and holding what each screen exists for."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_NOW

BUILD = """
import sys
from datetime import datetime
from adminui.config import url_profile
from adminui.db import Database
from adminui.demo import build_demo
db = Database(url_profile("sqlite:///" + sys.argv[1]), create=True, enforce_foreign_keys=False)
build_demo(db, 150, now=datetime.fromisoformat(sys.argv[2]))
"""


def build_in_subprocess(path: Path, hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [sys.executable, "-c", BUILD, str(path), FIXTURE_NOW.isoformat()], check=True, env=env
    )


def test_the_same_arguments_give_the_same_rows(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    build_in_subprocess(first, "1")
    build_in_subprocess(second, "2")
    dumps = []
    for path in (first, second):
        with sqlite3.connect(path) as conn:
            # usage_tracking ids come from SQLite's random default: compare the rest.
            dumps.append([line for line in conn.iterdump() if "usage_tracking" not in line])
    assert dumps[0] == dumps[1]
    assert len(dumps[0]) > 500


def test_the_demo_holds_what_the_screens_need(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    build_in_subprocess(path, "0")
    with sqlite3.connect(path) as conn:

        def one(sql: str) -> object:
            return conn.execute(sql).fetchone()[0]

        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM executions")}
        assert statuses == {"running", "completed", "failed", "partial"}
        assert one(
            "SELECT COUNT(*) FROM executions WHERE status = 'failed' "
            "AND error_message LIKE '%' || char(10) || '%' AND error_step IS NOT NULL"
        )
        receipts = {row[0] for row in conn.execute("SELECT DISTINCT status FROM payment_receipts")}
        assert receipts == {"verified", "pending", "refunded"}
        assert (
            one(
                "SELECT julianday(MAX(created_at)) - julianday(MIN(created_at)) "
                "FROM payment_receipts"
            )
            > 365
        )
        assert one(
            "SELECT COUNT(*) FROM (SELECT bmc_reference FROM payment_receipts "
            "GROUP BY bmc_reference HAVING COUNT(*) > 1)"
        )
        assert (
            one("SELECT COUNT(*) FROM users WHERE id NOT IN (SELECT user_id FROM usage_tracking)")
            == 1
        )
        assert one("SELECT COUNT(*) FROM executions WHERE user_id NOT IN (SELECT id FROM users)")
        assert one("SELECT COUNT(*) FROM ideas WHERE user_id NOT IN (SELECT id FROM users)")
