"""Login roles made on the test cluster for one test: the app connected as someone other than
the superuser (a SELECT-only reader, a role whose password is a canary), and a look at what the
server logged for that role."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.pg_cluster import PgServer

# What a write statement looks like in the server's statement log (psycopg's extended protocol
# logs "execute <name>: SQL", the simple one "statement: SQL"); row locks and advisory locks
# only ever open a write.
WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|TRUNCATE|pg_advisory_xact_lock)\b")


@dataclass(frozen=True)
class Role:
    """A login role of the test cluster and the database it was granted on."""

    name: str
    password: str
    server: PgServer
    database: str

    def url(self) -> str:
        """A profile URL for the role (no password: that comes from the environment/keyring)."""
        return (
            f"postgresql+psycopg://{self.name}@{self.server.host}:{self.server.port}/"
            f"{self.database}"
        )

    @property
    def log(self) -> Path:
        """The cluster's server log (pg_ctl -l in tests/pg_cluster.py)."""
        return self.server.datadir.parent / "log"

    def log_offset(self) -> int:
        """Where the server log ends now: pass it to `statements_since`."""
        return self.log.stat().st_size

    def statements_since(self, offset: int) -> list[str]:
        """The statements the server logged since `offset`, each whole. Only this role has
        log_statement = all, so in a serial test run they are this role's."""
        with self.log.open(encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            text = handle.read()
        entries: list[str] = []
        for line in text.splitlines():  # a statement's later lines are indented continuations
            if line[:1].isspace() and entries:
                entries[-1] += "\n" + line
            else:
                entries.append(line)
        # A statement refused while being bound (a privilege check) never reaches "execute":
        # the server logs it after its ERROR line instead (log_min_error_statement).
        marks = ("LOG:  statement:", "LOG:  execute", "STATEMENT:")
        return [entry for entry in entries if any(mark in entry for mark in marks)]


@contextmanager
def login_role(
    server: PgServer, database: str, password: str, *, select_only: bool
) -> Iterator[Role]:
    """A new login role with `password`: SELECT on every table of `database` (select_only) or
    every privilege there; its statements are logged. Dropped afterwards."""
    name = f"role_{uuid.uuid4().hex[:10]}"
    quoted = password.replace("'", "''")
    grant = "SELECT" if select_only else "ALL"
    server.psql(f"CREATE ROLE {name} LOGIN PASSWORD '{quoted}'")
    server.psql(f"ALTER ROLE {name} SET log_statement = 'all'")
    server.psql(f"GRANT {grant} ON ALL TABLES IN SCHEMA public TO {name}", database)
    try:
        yield Role(name, password, server, database)
    finally:
        server.psql(f"DROP OWNED BY {name}", database)
        server.psql(f"DROP ROLE {name}")
