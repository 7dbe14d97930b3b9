"""A TCP proxy between desktop clients and the real server, to take the network away.

Clients talk to the proxy's port as if it were the server (REST and WebSocket alike);
the test cuts every connection (`Proxy.drop`, as a flaky network does), or goes `down`
(connections cut and new ones refused, as offline) and `up` again. It runs its own
asyncio loop on its own thread and forwards bytes unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading

from tests.serverproc import free_port


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.online = True
        self.connections = 0
        self._pairs: set[frozenset[asyncio.StreamWriter]] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="test-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.online:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        pair = frozenset({writer, up_writer})
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    def _cut(self, fraction: float = 1.0) -> None:
        for pair in list(self._pairs):
            if fraction >= 1 or random.random() < fraction:
                for writer in pair:
                    writer.transport.abort()

    def drop(self, fraction: float = 1.0) -> None:
        """Cut every open connection, or each with probability ``fraction`` (new ones are
        accepted)."""
        self._loop.call_soon_threadsafe(self._cut, fraction)

    def down(self) -> None:
        """Go offline: cut everything and refuse new connections."""
        self.online = False
        self._loop.call_soon_threadsafe(self._cut)

    def up(self) -> None:
        self.online = True

    def stop(self) -> None:
        def close() -> None:
            self._cut()
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)
