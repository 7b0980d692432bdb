"""The product packs' manifests (queries/<pack>/pack.toml): read and checked, and true to the
pack's own reference schema, so that the orphan checks and the foreign-key health view that
derive from them check what the schema really holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adminui.errors import QueryFileError
from adminui.packs import MANIFEST, load_pack
from adminui.queries import DEFAULT_PACK, default_query_dir
from adminui.schema import schema_sql


def test_every_relation_of_the_manifest_is_a_reference_of_the_schema_and_back() -> None:
    """The manifest's relations are exactly the REFERENCES ... ON DELETE of postgresql.sql."""
    ddl = schema_sql("postgresql")
    declared = set()
    for table, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\);", ddl, re.S):
        for column, parent, action in re.findall(
            r"\n  (\w+) [^\n]*REFERENCES (\w+)\(id\) ON DELETE (CASCADE|SET NULL)", body
        ):
            declared.add((table, column, parent, action.lower()))
    pack = load_pack()
    assert {(r.table, r.column, r.parent, r.on_delete) for r in pack.relations} == declared


def test_a_child_is_cleaned_before_its_parent() -> None:
    order = [r.table for r in load_pack().relations]
    for relation in load_pack().relations:
        if relation.parent in order:
            assert order.index(relation.table) < order.index(relation.parent), relation.name


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (
            lambda t: t.replace('child = "ideas.user_id"', 'child = "ideas.user_id; DROP"'),
            "plain SQL",
        ),
        (lambda t: t.replace('on_delete = "set null"', 'on_delete = "restrict"', 1), "on_delete"),
        (lambda t: t.replace('shows = ["email"', 'shows = ["e-mail"', 1), "plain SQL names"),
        (lambda t: t + "\n[[[", "can't be read"),
    ],
)
def test_a_manifest_with_a_name_that_is_not_an_identifier_is_refused(
    tmp_path: Path, edit, said: str
) -> None:
    """Generated SQL and DDL take names only from a manifest: each must be a plain identifier."""
    folder = tmp_path / DEFAULT_PACK
    folder.mkdir()
    original = (default_query_dir() / DEFAULT_PACK / MANIFEST).read_text()
    (folder / MANIFEST).write_text(edit(original))
    with pytest.raises(QueryFileError, match=said):
        load_pack(DEFAULT_PACK, tmp_path)
