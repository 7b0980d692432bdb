"""The benchmark harness can't rot: every read statement has bench parameters, and
`bench/run.py --quick` runs whole on the test database, as `bench/d1_latency.py` does through the
D1 stand-in (CI runs these; the figures at scale come from bench/make_scale.py and full runs,
never from a timed test)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import psycopg

from adminui.db import Database
from adminui.ops import health
from adminui.queries import Registry
from adminui.schema import recommended_indexes
from bench import d1_latency, params, run
from tests.pg_cluster import PG_PASSWORD


def _read_statements() -> list[str]:
    registry = Registry.load()
    return [n for n in registry.names() if registry.get(n).mode == "read"]


def test_every_read_statement_has_bench_parameters() -> None:
    missing = [
        n for n in _read_statements() if params.builder(n) is None and n not in params.EXEMPT
    ]
    assert missing == [], f"add these to bench/params.py: {missing}"


def test_quick_run_reports_every_statement_and_leaves_no_index(
    pg_db: Database, tmp_path: Path
) -> None:
    url = pg_db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
    out = tmp_path / "RESULTS.md"
    argv = ["--url", url, "--quick", "--out", str(out)]
    if shutil.which("tmux") is None:
        argv.append("--no-paint")
    run.main(argv, say=lambda _line: None)

    report = out.read_text(encoding="utf-8")
    labels = {line.split(" | ")[0].lstrip("| ") for line in report.splitlines()}
    for name in _read_statements():
        if name not in params.EXEMPT:
            assert any(label.split(":")[0] == name for label in labels), name
    ratios = re.findall(r"\| (\d+\.\d\d)x", report)
    assert len(ratios) >= 2 * (len(_read_statements()) - len(params.EXEMPT))
    assert all(float(r) > 0 for r in ratios)
    assert "RSS after paging through" in report
    with pg_db.read() as tx:
        names = {r["index_name"] for r in tx.rows("live_indexes")}
    created = {re.search(r"CREATE INDEX (\w+)", a.ddl)[1] for a in recommended_indexes()}
    assert names.isdisjoint(created), "the recommended indexes the run created were not dropped"


def test_every_recommended_index_once_created_is_seen_by_the_health_view(pg_db: Database) -> None:
    """The definitions in recommended_indexes.sql are written as PostgreSQL prints them back,
    or the health view would call an index missing that the bench has just created."""
    url = pg_db.profile.url.set(password=PG_PASSWORD, drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        created = run.create_recommended(conn)
    assert len(created) == len(recommended_indexes())
    missing = [h.advice.ddl for h in health.indexes(pg_db) if not h.present]
    assert missing == []


def test_the_d1_bench_counts_each_action_s_requests(monkeypatch, capsys, tmp_path: Path) -> None:
    """bench/d1_latency.py runs whole (small, no delay) and counts what issue 20's targets
    are about: a lookup and a screen in one request, `users show EMAIL` and a grant in two."""
    for key in ("ADMINUI_D1_API", "ADMINUI_PASSWORD", "ADMINUI_AUDIT_LOG"):
        monkeypatch.setenv(key, "")  # put back as it was once the bench has set them
    monkeypatch.setenv("ADMINUI_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setattr(
        sys, "argv", ["d1_latency", "--users", "60", "--delays", "0", "--repeat", "1"]
    )
    d1_latency.main()
    requests = {
        line[:44].strip(): int(line.split()[-1])
        for line in capsys.readouterr().out.splitlines()
        if line.split() and line.split()[-1].isdigit()
    }
    assert requests["a lookup (search keystroke)"] == requests["a user's screen (refresh)"] == 1
    assert requests["users show EMAIL (resolve + screen)"] == 2
    assert requests["grant (preview + write batch)"] == 2
    assert requests["orphan scan (every check counted)"] == 1
