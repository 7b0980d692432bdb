"""The product packs' manifests (queries/<pack>/pack.toml): read and checked, and true to the
pack's own reference schema, so that the orphan checks and the foreign-key health view that
derive from them check what the schema really holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from adminui.errors import QueryFileError
from adminui.packs import MANIFEST, Relation, load_pack, pack_folders
from adminui.queries import DEFAULT_PACK, default_query_dir
from adminui.schema import orphan_sql, reference_tables
from adminui.schema.ddl import tables
from adminui.schema.orphan_sql import generated_files


@pytest.mark.parametrize("folder", pack_folders())
def test_every_relation_of_the_manifest_is_a_reference_of_the_schema_and_back(folder: str) -> None:
    """The manifest's relations within a database are exactly the foreign keys its reference
    DDL declares (inline or as named constraints), with the same action; one across databases
    has none."""
    pack = load_pack(folder)
    declared = {
        (table.name, key.column, key.parent, key.on_delete)
        for table in reference_tables(pack).values()
        for key in table.foreign_keys
    }
    within = {
        (r.table, r.column, r.parent, r.on_delete) for r in pack.relations if not pack.crosses(r)
    }
    assert within == declared
    across = [r for r in pack.relations if pack.crosses(r)]
    assert all(
        r.column not in {k.column for k in reference_tables(pack)[r.table].foreign_keys}
        for r in across
    )


@pytest.mark.parametrize("folder", pack_folders())
def test_a_child_is_cleaned_before_its_parent(folder: str) -> None:
    order = [r.table for r in load_pack(folder).relations]
    for relation in load_pack(folder).relations:
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


@pytest.mark.parametrize("folder", pack_folders())
def test_the_committed_orphan_files_are_what_the_manifest_generates(folder: str) -> None:
    """orphans*.sql are generated from pack.toml and the reference DDL: a hand edit of either
    side, or a manifest changed without regenerating, fails here."""
    for path, text in generated_files(load_pack(folder)).items():
        committed = path.read_text(encoding="utf-8") if path.is_file() else ""
        assert committed == text, f"{path} differs from its source: run `adminui queries generate`"


def test_the_generator_takes_the_columns_and_key_from_the_ddl() -> None:
    """A table keyed by a text column other than `id`, with a nullable reference, a default with
    a comma in quotes and a comment: its statements use that key, cast as text, and guard NULL."""
    ddl = tables(
        "CREATE TABLE parents (\n  code TEXT PRIMARY KEY\n);\n"
        "CREATE TABLE kids (\n"
        "  handle TEXT NOT NULL, -- the key\n"
        "  parent_code TEXT REFERENCES parents(code) ON DELETE SET NULL,\n"
        "  label TEXT DEFAULT 'a, b' NOT NULL,\n"
        "  PRIMARY KEY (handle)\n);\n"
    )
    assert ddl["kids"].key == "handle"
    assert [(c.name, c.cast, c.nullable) for c in ddl["kids"].columns] == [
        ("handle", "text", False),
        ("parent_code", "text", True),
        ("label", "text", False),
    ]
    relation = Relation("kids", "parent_code", "parents", "set null")
    statements = {
        s.name: s.sql
        for s in orphan_sql._check(
            relation,
            ddl,
            orphan_sql.Dialect("postgresql"),
            ["c.handle"],
            lambda t: (ddl[t].key, ddl[t].column(ddl[t].key).cast),
            guarded=False,
        )
    }
    preview = statements["orphans_preview_kids_parent_code"]
    assert "c.parent_code IS NOT NULL" in preview
    assert "p.code = c.parent_code" in preview
    assert "c.handle > CAST(:after AS text)" in preview
    assert "c.handle = ANY(CAST(:ids AS text[]))" in statements["orphans_clean_kids_parent_code"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("  a TEXT,\n  b TEXT", "no single-column primary key"),
        ("  a TEXT PRIMARY KEY,\n  b POINT", "can't bind"),
    ],
)
def test_a_reference_table_the_generator_cannot_serve_is_refused(body: str, said: str) -> None:
    with pytest.raises(QueryFileError, match=said):
        tables(f"CREATE TABLE odd (\n{body}\n);")
