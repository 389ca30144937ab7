"""SSE subscribers that keep every chunk with its arrival time and count orders cheaply.

On each read a subscriber only stamps and keeps the chunk and counts a marker that occurs
once per order event (``bytes.count`` on the chunk plus the tail of the previous one, so a
marker split across reads counts once). Finding the ids, and checking them, is done after
each step, outside the measured window, by ``bench.deliveries``.
"""

from __future__ import annotations

import asyncio
import time

from bench.load.sse import Response, count_across, get, open_batches

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


class OrderStream(Response):
    """One ``text/event-stream`` response; ``ready`` resolves on its first complete frame."""

    def __init__(self, request: bytes, marker: bytes, tally: Tally) -> None:
        super().__init__(request)
        self.marker = marker
        self.tally = tally
        self.chunks: list[Chunk] = []
        self._tail = b""

    def on_body(self, data: bytes) -> None:
        self.chunks.append((time.monotonic(), data))
        found, _, self._tail = count_across(self._tail, data, self.marker)
        if found:
            self.tally.count += found
        if not self.ready.done() and b"\n\n" in b"".join(c for _, c in self.chunks):
            self.ready.set_result(True)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def subscribe(
    port: int, path: str, count: int, marker: bytes, tally: Tally, *, batch: int = 250
) -> list[OrderStream]:
    """``count`` subscribers, opened ``batch`` at a time, each past its first frame."""
    return await open_batches(
        lambda: OrderStream(get(path), marker, tally), port, count, batch=batch
    )
