"""SSE subscribers that note when each order id arrived, without decoding JSON per event.

A chunk is cut at its last complete frame (``\\n\\n``); the ids in the complete part are
found by one regular-expression scan and stored with the chunk's arrival time, the rest
waits for the next chunk. Checking them (missing, duplicates, latency) is done afterwards,
outside the measured window, by ``bench.deliveries``.
"""

from __future__ import annotations

import asyncio
import re
import time

from bench.load.sse import get
from bench.server import HOST

Arrival = tuple[float, list[bytes]]


class Tally:
    """Ids received by every subscriber together; ``reach(total)`` waits for that many."""

    def __init__(self) -> None:
        self.count = 0
        self._target = 0
        self._reached: asyncio.Future[None] | None = None

    def add(self, found: int) -> None:
        self.count += found
        if self._reached and self.count >= self._target and not self._reached.done():
            self._reached.set_result(None)

    async def reach(self, total: int, timeout: float) -> bool:
        """True once ``total`` ids arrived, False if ``timeout`` passed first."""
        if self.count >= total:
            return True
        self._target = total
        self._reached = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._reached, timeout)
        except TimeoutError:
            return False
        return True


class OrderStream(asyncio.Protocol):
    """One ``text/event-stream`` response; ``ready`` resolves on its first complete frame."""

    def __init__(self, request: bytes, pattern: re.Pattern[bytes], tally: Tally) -> None:
        loop = asyncio.get_running_loop()
        self.request = request
        self.pattern = pattern
        self.tally = tally
        self.status = 0
        self.arrivals: list[Arrival] = []
        self.ready = loop.create_future()
        self._head = b""
        self._pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]  # a stream transport

    def data_received(self, data: bytes) -> None:
        if not self.status:
            data = self._read_head(data)
        body = self._pending + data
        cut = body.rfind(b"\n\n")
        if cut < 0:
            self._pending = body
            return
        self._pending = body[cut + 2 :]
        if not self.ready.done():
            self.ready.set_result(True)
        ids = self.pattern.findall(body, 0, cut)
        if ids:
            self.arrivals.append((time.monotonic(), ids))
            self.tally.add(len(ids))

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


async def subscribe(
    port: int, path: str, count: int, pattern: re.Pattern[bytes], tally: Tally, *, batch: int = 250
) -> list[OrderStream]:
    """``count`` subscribers, opened ``batch`` at a time, each past its first frame."""
    loop = asyncio.get_running_loop()
    streams: list[OrderStream] = []
    for start in range(0, count, batch):
        opened = await asyncio.gather(
            *(
                loop.create_connection(lambda: OrderStream(get(path), pattern, tally), HOST, port)
                for _ in range(min(batch, count - start))
            )
        )
        streams.extend(stream for _, stream in opened)
        if not all(await asyncio.gather(*(stream.ready for _, stream in opened))):
            raise ConnectionError(f"a stream closed before its first frame ({len(streams)} open)")
    return streams
