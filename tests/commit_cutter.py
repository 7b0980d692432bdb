"""A loopback TCP proxy in front of the test PostgreSQL server that can lose a write's COMMIT.

It relays the wire protocol untouched, reading the client's messages only to find the COMMIT
(a simple query, or, in a pipeline, a Parse run at the next Sync) of a write transaction (one
that asked for its transaction id: `pg_current_xact_id`, which adminui runs in write
transactions only). Armed, it does one of:

- "cut":  forward that COMMIT, wait until the server has answered, then close both sides without
          passing the answer on: the write is committed, the client only sees a dead connection;
- "drop": close both sides instead of forwarding it: the server rolls the transaction back;
- "hold": keep it (neither forwarded nor answered) until `release()`, which forwards it and
          closes as "cut" does: the client can be killed while it waits.

With `refuse` set, new connections are accepted and closed at once (the database is away);
`arm(..., then_refuse=True)` sets it the moment a COMMIT is lost.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_WRITE_MARK = b"pg_current_xact_id"


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _cstring(body: bytes, start: int) -> tuple[bytes, int]:
    end = body.index(b"\0", start)
    return body[start:end], end + 1


class _Link:
    """One client connection and its server connection."""

    def __init__(self, cutter: CommitCutter, client: socket.socket) -> None:
        self.cutter = cutter
        self.client = client
        self.server = socket.create_connection(("127.0.0.1", cutter.server_port))
        self.swallow = False
        self.answered = threading.Event()
        self.wrote = False  # this transaction asked for its id: it is a write
        self.marked_statements: set[bytes] = set()

    def run(self) -> None:
        try:
            self._startup()
            threading.Thread(target=self._relay_answers, daemon=True).start()
            while True:
                kind = _recv_exact(self.client, 1)
                (length,) = struct.unpack("!i", _recv_exact(self.client, 4))
                body = _recv_exact(self.client, length - 4)
                message = kind + struct.pack("!i", length) + body
                if self._is_write_commit(kind, body) and self.cutter.take_arm():
                    if kind == b"P":  # a pipeline's COMMIT (extended protocol) runs at Sync
                        message += self._until_sync()
                    self._lose(message)
                    return
                self.server.sendall(message)
        except (ConnectionError, OSError):
            pass
        finally:
            self.close()

    def _startup(self) -> None:
        """Untyped messages until the startup packet: SSL / GSS requests get one byte back."""
        while True:
            (length,) = struct.unpack("!i", _recv_exact(self.client, 4))
            body = _recv_exact(self.client, length - 4)
            self.server.sendall(struct.pack("!i", length) + body)
            (code,) = struct.unpack("!i", body[:4])
            if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
                return
            self.client.sendall(_recv_exact(self.server, 1))

    def _is_write_commit(self, kind: bytes, body: bytes) -> bool:
        """Whether this message is the COMMIT of a transaction that asked for its id."""
        if kind == b"Q":
            query = body.rstrip(b"\0").strip().upper()
            if query in (b"COMMIT", b"ROLLBACK"):
                wrote, self.wrote = self.wrote, False
                return wrote and query == b"COMMIT"
            self.wrote = self.wrote or self.cutter.mark.upper() in query
        elif kind == b"P":  # Parse: remember which (named or unnamed) statement is the mark
            name, rest = _cstring(body, 0)
            query, _ = _cstring(body, rest)
            ending = query.strip().rstrip(b";").upper()
            if ending in (b"COMMIT", b"ROLLBACK"):  # a pipelined transaction's end
                wrote, self.wrote = self.wrote, False
                return wrote and ending == b"COMMIT"
            if self.cutter.mark in query:
                self.marked_statements.add(name)
            else:
                self.marked_statements.discard(name)
        elif kind == b"B":  # Bind: running one
            _portal, rest = _cstring(body, 0)
            statement, _ = _cstring(body, rest)
            self.wrote = self.wrote or statement in self.marked_statements
        return False

    def _until_sync(self) -> bytes:
        """The client's messages up to and with the next Sync."""
        sent = b""
        while True:
            kind = _recv_exact(self.client, 1)
            (length,) = struct.unpack("!i", _recv_exact(self.client, 4))
            sent += kind + struct.pack("!i", length) + _recv_exact(self.client, length - 4)
            if kind == b"S":
                return sent

    def _lose(self, commit: bytes) -> None:
        mode = self.cutter.mode
        if mode == "drop":
            return
        if mode == "hold":
            self.cutter.held.set()
            self.cutter.release_event.wait(60)
        self.swallow = True
        self.server.sendall(commit)
        self.answered.wait(30)
        self.cutter.refuse = self.cutter.refuse or self.cutter.then_refuse
        self.cutter.cut.set()

    def _relay_answers(self) -> None:
        try:
            while data := self.server.recv(65536):
                if self.swallow:
                    self.answered.set()
                    continue
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            self.answered.set()

    def close(self) -> None:
        for sock in (self.client, self.server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class CommitCutter:
    """The proxy; `port` is where the app connects."""

    def __init__(self, server_port: int, mark: bytes = _WRITE_MARK) -> None:
        self.server_port = server_port
        self.mark = mark  # a statement text that makes its transaction one to cut
        self.mode = "cut"
        self.refuse = False
        self.then_refuse = False
        self.cut = threading.Event()  # a COMMIT was lost (or is held)
        self.held = threading.Event()
        self.release_event = threading.Event()
        self._armed = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._links: list[_Link] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, mode: str = "cut", *, then_refuse: bool = False) -> None:
        """Lose the next write COMMIT, the way `mode` says."""
        with self._lock:
            self.mode, self._armed, self.then_refuse = mode, 1, then_refuse
            self.cut.clear()
            self.held.clear()
            self.release_event.clear()

    def take_arm(self) -> bool:
        with self._lock:
            if self._armed <= 0:
                return False
            self._armed -= 1
            return True

    def release(self) -> None:
        """Let a held COMMIT through (its answer still never reaches the client)."""
        self.release_event.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            try:
                link = _Link(self, client)
            except OSError:  # the server is down: this client is refused, the next may not be
                client.close()
                continue
            self._links.append(link)
            threading.Thread(target=link.run, daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        for link in self._links:
            link.close()


@contextmanager
def commit_cutter(server_port: int, mark: bytes = _WRITE_MARK) -> Iterator[CommitCutter]:
    """A running proxy to the server at `server_port`, closed afterwards."""
    cutter = CommitCutter(server_port, mark)
    try:
        yield cutter
    finally:
        cutter.close()
