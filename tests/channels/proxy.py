"""A TCP proxy in front of Kefu whose connections a test can cut, like a dropped network.

The browser reaches Kefu only through it, so ``drop()`` breaks the widget's socket for real
(no hook in the widget, no fake socket): open connections are closed and new ones refused
until ``restore()``.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Set


class DroppableProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.down = False
        self.refused = 0  # connections turned away while down
        self._writers: Set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> DroppableProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop(self) -> None:
        """Close every open connection and refuse new ones."""
        self.down = True
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(10)

    def restore(self) -> None:
        self.down = False

    def stop(self) -> None:
        self.drop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.down:
            self.refused += 1
            client_writer.close()
            return
        try:
            kefu_reader, kefu_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers.update({client_writer, kefu_writer})
        await asyncio.gather(self._pipe(client_reader, kefu_writer), self._pipe(kefu_reader, client_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
