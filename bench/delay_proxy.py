"""A TCP proxy on loopback that holds every byte back by a fixed delay in each direction: a
database tens of milliseconds away, seen from a laptop (#19). Bytes are delivered in the order
they came, each chunk `delay` after it arrived, never throttled: a round trip costs 2 x delay,
however much is sent.

    with DelayProxy("127.0.0.1", 5432, delay_ms=25) as proxy:
        ... connect to 127.0.0.1:proxy.port ...
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import suppress
from types import TracebackType


class DelayProxy:
    """Listens on a free loopback port; each connection is relayed to the upstream."""

    def __init__(self, host: str, port: int, delay_ms: float) -> None:
        self.upstream = (host, port)
        self.delay = delay_ms / 1000
        self.port = 0
        # Round trips counted, not implied: each time the client speaks after the server did
        # (or first), over every connection.
        self.trips = 0
        self._clients: set[asyncio.StreamWriter] = set()  # the relayed connections' client ends
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut(self) -> None:
        """Drop every relayed connection at once, on the client's side (a network that went
        away: the server is told nothing and goes on with whatever it was running)."""
        done = threading.Event()

        def abort() -> None:
            for writer in self._clients:
                writer.transport.abort()
            done.set()

        self._loop.call_soon_threadsafe(abort)
        done.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._relay, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self._loop)  # the relays still open: ended, not abandoned
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter):
        try:
            server_in, server_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.close()
            return
        last = ["server"]  # who spoke last on this connection
        self._clients.add(client_out)
        with suppress(asyncio.CancelledError):  # the proxy closing with the connection open
            await asyncio.gather(
                self._pump(client_in, server_out, last, "client"),
                self._pump(server_in, client_out, last, "server"),
            )
        self._clients.discard(client_out)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, last: list, side: str
    ) -> None:
        """One direction: read as bytes come, deliver each chunk `delay` after it came."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                sink.write(chunk)
                await sink.drain()
            sink.close()

        delivering = asyncio.ensure_future(deliver())
        with suppress(ConnectionError, OSError):
            while chunk := await source.read(65536):
                if side == "client" and last[0] == "server":
                    self.trips += 1
                last[0] = side
                queue.put_nowait((time.monotonic() + self.delay, chunk))
        queue.put_nowait((time.monotonic() + self.delay, b""))
        with suppress(ConnectionError, OSError):
            await delivering
