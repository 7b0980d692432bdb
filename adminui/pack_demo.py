"""The demo of a pack whose demo data is SQL (`queries/<pack>/demo.sql`): its reference schema in
each of its databases, then every statement of its demo.sql in file order, in one transaction
per database. No product needs Python for its demo this way; Idea Expansion's older demo is
built by adminui/demo.py (its rows were first written in Python, and its tests rely on them).

Which database a statement runs on is in its name: demo_data_* on the pack's second database,
demo_clock* (the temporary clock every other statement joins) on each, the others on the main
one. Each is bound only the values it declares of :users and :now.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adminui.db import Database
from adminui.packs import DATA, MAIN
from adminui.schema import schema_sql

DEMO_FILE = "demo.sql"
CLOCK = "demo_clock"


def demo_statements(db: Database) -> list[str]:
    """The pack's demo statements, in the order demo.sql lists them."""
    sources = {name: db.registry.get(name).source for name in db.registry.names()}
    own = [name for name, source in sources.items() if source.startswith(f"{DEMO_FILE}:")]
    return sorted(own, key=lambda name: int(sources[name].rsplit(":", 1)[1]))


def runs_on(name: str) -> tuple[str, ...]:
    """The databases a demo statement runs on."""
    if name.startswith(CLOCK):
        return (MAIN, DATA)
    return (DATA,) if name.startswith("demo_data_") else (MAIN,)


def build_pack_demo(
    databases: dict[str, Database], users: int, now: datetime | None = None
) -> None:
    """Create the pack's reference schema in each of its (empty) databases and fill them."""
    create_schema(databases)
    fill(databases, users, now)


def create_schema(databases: dict[str, Database]) -> None:
    """The pack's reference DDL, in each of its databases."""
    for database, db in databases.items():
        db.run_script(schema_sql(db.dialect, db.pack, database))


def fill(databases: dict[str, Database], users: int, now: datetime | None = None) -> None:
    """Every demo statement, in one transaction per database."""
    values = {"users": users, "now": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S")}
    statements = demo_statements(databases[MAIN])
    for database, db in databases.items():
        with db.write() as tx:
            for name in statements:
                if database in runs_on(name):
                    params = db.statement(name).params
                    tx.run(name, **{key: values[key] for key in params})
