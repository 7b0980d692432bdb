"""A throwaway PgBouncer in transaction mode in front of the test cluster, for the pooler tests.

Supabase's pooler (port 6543) hands each transaction whatever server connection is free, so
session state and psycopg's automatic prepared statements don't follow a client from one
transaction to the next. This starts the system's `pgbouncer` the same way: `pool_mode =
transaction`, loopback only, a free port, scram auth with the cluster's superuser password (a
plain-text userlist entry lets PgBouncer log in to the server with scram too), and, when run as
root, as the unprivileged `postgres` OS user like the cluster. `server_round_robin` hands the
server connections out in turn, so consecutive transactions of one client land on different ones.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.pg_cluster import OWNER, PG_PASSWORD, PgServer, _free_port

# Server connections per database: more than one, so a statement prepared on one is missing on
# the next; few, so a test can hold every one of them at once.
POOL_SIZE = 2


class PoolerUnavailable(RuntimeError):
    """PgBouncer is not installed or did not start (the reason is the message)."""


@dataclass(frozen=True)
class Pooler:
    """A running PgBouncer in transaction mode."""

    host: str
    port: int
    log: Path
    version: tuple[int, ...]

    def url(self, database: str, *, password: bool = True) -> str:
        """A psycopg URL for one database of the cluster behind the pooler, as the superuser."""
        secret = f":{PG_PASSWORD}" if password else ""
        return f"postgresql+psycopg://postgres{secret}@{self.host}:{self.port}/{database}"


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise PoolerUnavailable(f"pgbouncer exited at start ({process.returncode}): {text}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise PoolerUnavailable(f"pgbouncer did not listen on {host}:{port} within 10 s")


def _version(binary: str) -> tuple[int, ...]:
    """PgBouncer's version, from the first line of `pgbouncer --version` ("PgBouncer 1.18.0")."""
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    words = (done.stdout or done.stderr).split()
    try:
        return tuple(int(part) for part in words[1].split("."))
    except (IndexError, ValueError):
        raise PoolerUnavailable(f"can't tell pgbouncer's version from {done.stdout!r}") from None


@contextmanager
def start_pooler(server: PgServer) -> Iterator[Pooler]:
    """Start PgBouncer in front of `server`; stopped and its files removed on exit."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").is_file() else None
    )
    if binary is None:
        raise PoolerUnavailable("pgbouncer is not installed (.ci/run installs it: apt pgbouncer)")
    version = _version(binary)
    owner = None
    root = Path(tempfile.mkdtemp(prefix="adminui-pgbouncer-"))
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        try:
            entry = pwd.getpwnam(OWNER)
        except KeyError:
            raise PoolerUnavailable(f"Running as root needs the '{OWNER}' OS user.") from None
        owner = OWNER
        os.chown(root, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    log = root / "pgbouncer.log"
    (root / "userlist.txt").write_text(f'"postgres" "{PG_PASSWORD}"\n')
    settings = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "auth_type": "scram-sha-256",
        "auth_file": str(root / "userlist.txt"),
        "pool_mode": "transaction",
        "default_pool_size": str(POOL_SIZE),
        "server_round_robin": "1",
        "max_client_conn": "200",
        "query_wait_timeout": "20",
        "ignore_startup_parameters": "extra_float_digits",
        "logfile": str(log),
        "pidfile": str(root / "pgbouncer.pid"),
    }
    if version >= (1, 21):
        # 1.21+ can track protocol-level prepared statements: off, like a pooler without that,
        # so the tests see what prepare_threshold = none is for.
        settings["max_prepared_statements"] = "0"
    (root / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={server.host} port={server.port}\n[pgbouncer]\n"
        + "".join(f"{key} = {value}\n" for key, value in settings.items())
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        (root / name).chmod(0o600)
        if owner:
            shutil.chown(root / name, owner)
    process = subprocess.Popen(
        [binary, str(root / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=owner,
    )
    try:
        _wait_for_port("127.0.0.1", port, process, log)
        yield Pooler("127.0.0.1", port, log, version)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
