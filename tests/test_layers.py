"""The layers call only the one below: screens and the CLI never touch db or queries; ops never
import Textual; no SQL text lives in Python; the tree is ruff-clean."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "adminui"


def runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (imports under `if TYPE_CHECKING:` don't count)."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize(
    "path", [PACKAGE / "cli.py", *sorted((PACKAGE / "tui").glob("*.py"))], ids=lambda p: p.name
)
def test_screens_and_cli_never_import_the_database_layer(path: Path) -> None:
    imported = runtime_imports(path)
    assert not {"adminui.db", "adminui.queries"} & imported


@pytest.mark.parametrize("path", sorted((PACKAGE / "ops").glob("*.py")), ids=lambda p: p.name)
def test_ops_never_import_textual(path: Path) -> None:
    assert not any(name.split(".")[0] in ("textual", "rich") for name in runtime_imports(path))


def test_importing_the_ops_does_not_load_textual() -> None:
    code = "import sys, adminui.ops.users, adminui.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


SQL_IN_STRING = re.compile(
    r"""["'](\s*)(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH)\b[^"']*\b(FROM|SET|VALUES|AS)\b"""
)


# Two modules write SQL text by design. The generator of a pack's orphan statements: its output
# is what runs, committed under queries/ and vetted, and a test holds the two equal
# (tests/test_packs.py). The schema check's fixes: DDL shown for a person to copy, which adminui
# never runs (tests/test_schema_drift.py runs each one to prove it fixes what it claims).
GENERATORS = {PACKAGE / "schema" / "orphan_sql.py", PACKAGE / "schema" / "fixes.py"}


@pytest.mark.parametrize(
    "path", sorted(set(PACKAGE.rglob("*.py")) - GENERATORS), ids=lambda p: p.name
)
def test_no_sql_text_lives_in_python(path: Path) -> None:
    assert not SQL_IN_STRING.search(path.read_text()), f"SQL in {path}; it belongs in queries/"


def test_the_tree_is_ruff_clean() -> None:
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test dependency"
    root = PACKAGE.parent
    check = subprocess.run([ruff, "check", "."], cwd=root, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([ruff, "format", "--check", "."], cwd=root, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout
