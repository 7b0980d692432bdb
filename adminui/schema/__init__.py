"""The reference schema of seed 001, one DDL file per dialect, for the demo and the tests."""

from pathlib import Path

SCHEMA_DIR = Path(__file__).parent


def schema_sql(dialect: str) -> str:
    """The reference DDL for 'postgresql' or 'sqlite'."""
    return (SCHEMA_DIR / f"{dialect}.sql").read_text(encoding="utf-8")
