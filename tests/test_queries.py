"""The query registry enforces the query-file contract at load time, naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from adminui.errors import QueryFileError
from adminui.queries import Registry, default_query_dir, used_params

GOOD = """\
-- name: find_thing
-- Things by name.
-- mode: read
-- params: name, limit
SELECT id FROM things WHERE name = :name AND note <> '\\:not_a_param' -- \\:nor_this
LIMIT :limit;
"""


def write(tmp_path: Path, text: str, name: str = "jobs.sql") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def test_a_good_file_loads_with_its_header(tmp_path: Path) -> None:
    registry = Registry.load(write(tmp_path, GOOD))
    statement = registry.get("find_thing")
    assert statement.mode == "read"
    assert statement.params == {"name", "limit"}
    assert statement.doc == "Things by name."
    assert statement.sql.startswith("SELECT id FROM things")
    assert statement.source == "jobs.sql:1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD + "\n" + GOOD.replace("LIMIT :limit", "LIMIT 1").replace(", limit", ""),
            r"jobs.sql:8: 'find_thing' is already defined at jobs.sql:1",
        ),
        (
            GOOD.replace("AND note", "AND kind = :kind AND note"),
            r"jobs.sql:1: 'find_thing' params line does not match its SQL: uses undeclared :kind",
        ),
        (
            GOOD.replace("-- params: name, limit", "-- params: name, limit, extra"),
            r"declares unused extra",
        ),
        (GOOD.replace("-- mode: read\n", ""), r"jobs.sql:1: 'find_thing' has no '-- mode"),
        (GOOD.replace("-- mode: read", "-- mode: maybe"), r"has mode 'maybe', not read or write"),
        (GOOD.replace("-- params: name, limit\n", ""), r"has no '-- params:' line"),
        (
            GOOD.replace("LIMIT :limit;", "LIMIT :limit;\nDELETE FROM things;"),
            r"'find_thing' holds 2 statements; one per name",
        ),
        (GOOD.replace("-- Things by name.\n", ""), r"has no line saying what it does"),
        ("SELECT 1;\n" + GOOD, r"jobs.sql:1: SQL before the first '-- name:' header"),
        (GOOD.replace("find_thing", "Find-Thing"), r"'Find-Thing' is not a valid statement name"),
        (
            GOOD.replace("-- mode: read", "-- mode: read\n-- mode: write"),
            r"jobs.sql:4: a second '-- mode:' line",
        ),
        (GOOD.replace("-- params: name, limit", "-- params: name, , limit"), r"an empty name"),
    ],
    ids=[
        "duplicate",
        "undeclared",
        "unused",
        "no-mode",
        "bad-mode",
        "no-params",
        "two-statements",
        "no-doc",
        "sql-before-header",
        "bad-name",
        "two-modes",
        "empty-param",
    ],
)
def test_the_loader_refuses_a_malformed_file(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(QueryFileError, match=expected):
        Registry.load(write(tmp_path, text))


def test_a_duplicate_across_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.sql")
    write(tmp_path, GOOD, "b.sql")
    with pytest.raises(
        QueryFileError, match=r"b.sql:1: 'find_thing' is already defined at a.sql:1"
    ):
        Registry.load(tmp_path)


def test_an_unknown_name_is_an_error(tmp_path: Path) -> None:
    registry = Registry.load(write(tmp_path, GOOD))
    with pytest.raises(QueryFileError, match="No vetted statement is named 'nope'"):
        registry.get("nope")


def test_a_sqlite_sibling_overrides_only_for_sqlite(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace("WHERE name", "WHERE lower(name)"), "jobs.sqlite.sql")
    registry = Registry.load(tmp_path)
    assert "lower(name)" in registry.get("find_thing", "sqlite").sql
    assert "lower(name)" not in registry.get("find_thing", "postgresql").sql


@pytest.mark.parametrize(
    ("sibling", "expected"),
    [
        (GOOD.replace("find_thing", "other_thing"), "'other_thing' is not a statement of jobs.sql"),
        (GOOD.replace("-- mode: read", "-- mode: write"), "must keep the mode and params"),
    ],
)
def test_a_sqlite_sibling_must_match_its_base(tmp_path: Path, sibling: str, expected: str) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, sibling, "jobs.sqlite.sql")
    with pytest.raises(QueryFileError, match=expected):
        Registry.load(tmp_path)


def test_params_are_seen_as_sqlalchemy_sees_them() -> None:
    sql = "SELECT a::text, CAST(:b AS numeric) FROM t WHERE c = :c AND d LIKE 'x:y' /* :e */"
    assert used_params(sql) == {"b", "c"}
    assert used_params("SELECT $$ :inside $$, :outside") == {"outside"}


@pytest.mark.parametrize("hidden", ["note <> ':not_a_param'", "1 = 1 -- :nor_this"])
def test_a_colon_word_sqlalchemy_would_bind_is_refused(tmp_path: Path, hidden: str) -> None:
    """text() binds `:word` inside a literal or a comment too: such a statement could never
    run, so the loader refuses it, naming the word and the way to write it."""
    write(tmp_path, GOOD.replace("LIMIT :limit", f"AND {hidden}\nLIMIT :limit"))
    with pytest.raises(
        QueryFileError, match=r"jobs.sql:1: 'find_thing' has :(not_a_param|nor_this) in a"
    ):
        Registry.load(tmp_path)


def test_the_shipped_queries_load() -> None:
    registry = Registry.load(default_query_dir())
    assert "find_users" in registry.names()


def test_no_statement_selects_encrypted_values() -> None:
    for path in default_query_dir().rglob("*.sql"):
        for statement_text in path.read_text().split("-- name:")[1:]:
            if "-- mode: read" in statement_text:
                assert "encrypted_value" not in statement_text, path.name
