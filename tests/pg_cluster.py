"""A throwaway PostgreSQL cluster from the system's initdb / pg_ctl, for the tests and bench/.

Loopback only, a free port, password (scram) auth so refused logins can be tested, and when run
as root, owned by the unprivileged `postgres` OS user (initdb refuses root). Removed on exit.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_PASSWORD = "fixture-only-password"
OWNER = "postgres"


class ClusterError(RuntimeError):
    """The cluster could not be started (binaries or OS user missing)."""


def pg_bindir() -> Path:
    """Where initdb and pg_ctl live: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise ClusterError("PostgreSQL server binaries (initdb) not found; .ci/run installs them.")
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class PgServer:
    """A running throwaway cluster."""

    host: str
    port: int
    bindir: Path
    datadir: Path
    owner: str | None

    def url(self, database: str = "postgres", *, password: bool = True) -> str:
        """A psycopg URL for one database, as the superuser."""
        secret = f":{PG_PASSWORD}" if password else ""
        return f"postgresql+psycopg://postgres{secret}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with the server's own psql (CREATE / DROP DATABASE can't run in a
        transaction); its output."""
        env = {**os.environ, "PGPASSWORD": PG_PASSWORD}
        done = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return done.stdout

    def pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run pg_ctl on this cluster as its owner (stop, start, restart)."""
        return subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args],
            capture_output=True,
            text=True,
            user=self.owner,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as a crash does, without a checkpoint)."""
        done = self.pg_ctl("-w", "-m", mode, "stop")
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        """Start the server again with the options it last ran with."""
        log = str(self.datadir.parent / "log")  # or the server holds pg_ctl's pipe open
        command = shlex.split((self.datadir / "postmaster.opts").read_text())
        options = " ".join(shlex.quote(o) for o in command[3:])  # after: postgres -D DATADIR
        done = self.pg_ctl("-w", "-l", log, "-o", options, "start")
        assert done.returncode == 0, done.stderr


@contextmanager
def start_cluster(**settings: str) -> Iterator[PgServer]:
    """Start a cluster; extra `settings` become `-c name=value` server options."""
    bindir = pg_bindir()
    owner = None
    root = Path(tempfile.mkdtemp(prefix="adminui-pg-"))
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam(OWNER)
        except KeyError:
            raise ClusterError(f"Running as root needs the '{OWNER}' OS user for initdb.") from None
        owner = OWNER
        os.chown(root, entry.pw_uid, entry.pw_gid)
    datadir, pwfile = root / "data", root / "pwfile"
    pwfile.write_text(PG_PASSWORD)
    if owner:
        shutil.chown(pwfile, owner)
    port = _free_port()
    subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=owner,
    )
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(root),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "60",
        **settings,
    }
    server = PgServer("127.0.0.1", port, bindir, datadir, owner)
    started = server.pg_ctl(
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        " ".join(f"-c {k}={v}" for k, v in options.items()),
        "start",
    )
    if started.returncode:
        raise ClusterError(f"pg_ctl start failed: {started.stderr or started.stdout}")
    try:
        yield server
    finally:
        server.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
