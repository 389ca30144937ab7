"""SSE subscribers that keep every chunk with its arrival time and count orders cheaply.

On each read a subscriber only stamps and keeps the chunk and counts a marker that occurs
once per order event (``bytes.count`` on the chunk plus the tail of the previous one, so a
marker split across reads counts once). Finding the ids, and checking them, is done after
each step, outside the measured window, by ``bench.deliveries``.
"""

from __future__ import annotations

import asyncio
import time

from bench.address import HOST
from bench.load.sse import get

Chunk = tuple[float, bytes]


class Tally:
    """Order events received by every subscriber together."""

    def __init__(self) -> None:
        self.count = 0

    async def reach(self, total: int, timeout: float, poll: float = 0.002) -> bool:
        """True once ``total`` arrived, False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while self.count < total:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(poll)
        return True


class OrderStream(asyncio.Protocol):
    """One ``text/event-stream`` response; ``ready`` resolves on its first complete frame."""

    def __init__(self, request: bytes, marker: bytes, tally: Tally) -> None:
        self.request = request
        self.marker = marker
        self.tally = tally
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.chunks: list[Chunk] = []
        self.ready = asyncio.get_running_loop().create_future()
        self._head = b""
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self.status:
            data = self._read_head(data)
        self.chunks.append((time.monotonic(), data))
        window = self._tail + data
        found = window.count(self.marker)
        if found:
            self.tally.count += found
        self._tail = window[1 - len(self.marker) :]
        if not self.ready.done() and b"\n\n" in b"".join(c for _, c in self.chunks):
            self.ready.set_result(True)

    def _read_head(self, data: bytes) -> bytes:
        self._head += data
        head, found, body = self._head.partition(b"\r\n\r\n")
        if not found:
            return b""
        self.status = int(head.split(b" ", 2)[1])
        return body

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(False)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def subscribe(
    port: int, path: str, count: int, marker: bytes, tally: Tally, *, batch: int = 250
) -> list[OrderStream]:
    """``count`` subscribers, opened ``batch`` at a time, each past its first frame."""
    loop = asyncio.get_running_loop()
    streams: list[OrderStream] = []
    for start in range(0, count, batch):
        opened = await asyncio.gather(
            *(
                loop.create_connection(lambda: OrderStream(get(path), marker, tally), HOST, port)
                for _ in range(min(batch, count - start))
            )
        )
        streams.extend(stream for _, stream in opened)
        if not all(await asyncio.gather(*(stream.ready for _, stream in opened))):
            raise ConnectionError(f"a stream closed before its first frame ({len(streams)} open)")
    return streams
