"""A subscriber connection's bounded outgoing queue: what stream sinks share.

``_put`` never blocks. Queued items go out from the hub's ``SendBatch`` (one
loop callback for every connection with something to send); once a send has to
wait for a slow client, the connection's own ``write`` task takes over until
the queue is empty again. A queue over ``max_buffer`` bytes means the client
reads too slowly: it is counted, logged and ended (``_end_slow``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Send

from motia._realtime.send_batch import PendingSend, send_now

__all__ = ["DISCONNECTED", "Outgoing"]

log = logging.getLogger("motia.streams")

DISCONNECTED = (OSError, RuntimeError)
"""What a send raises once the client is gone (uvicorn's ClientDisconnected is an OSError)."""


class Outgoing:
    """Queued items (``str`` or ``bytes``) of one connection, sent in order."""

    __slots__ = (
        "_hub",
        "_max_buffer",
        "_queue",
        "_queued",
        "_scheduled",
        "_send",
        "_stop",
        "_waiter",
        "_waiting",
        "_writing",
        "broken",
        "closed",
        "sent",
    )

    describes = "a connection"
    """How the slow-client warning names the connection."""

    def __init__(self, max_buffer: int, hub: Any, stop: Callable[[], None], send: Send) -> None:
        self.closed = False
        self.broken = False
        self.sent = 0
        self._queue: deque[Any] = deque()
        self._queued = 0
        self._max_buffer = max_buffer
        self._hub = hub
        self._stop = stop
        self._send = send
        self._scheduled = False
        self._writing = False
        self._waiting: PendingSend | None = None
        self._waiter: asyncio.Future[None] | None = None

    def _next_message(self) -> Message:
        """Take what goes out next off the queue, as one ASGI message."""
        raise NotImplementedError

    def _put(self, item: str | bytes) -> None:
        if self.closed:
            return
        self._queue.append(item)
        self._queued += len(item)
        if self._queued > self._max_buffer:
            self._slow()
        elif not (self._writing or self._scheduled):
            self._scheduled = True
            self._hub.batch.add(self)

    def _end(self) -> None:
        """Drop the queue and stop the connection's session."""
        if not self.closed:
            self.closed = True
            self._queue.clear()
            self._queued = 0
            self._stop()

    def _end_slow(self) -> None:
        self._end()

    def _slow(self) -> None:
        self._hub.stats.slow_closes += 1
        log.warning(
            "closing %s whose client reads too slowly: %d bytes waiting (limit %d)",
            self.describes,
            self._queued,
            self._max_buffer,
        )
        self._end_slow()

    def flush(self) -> None:
        """Send what is queued, here (the send batch's callback), until a send has to wait."""
        self._scheduled = False
        while self._queue and not self._writing:
            try:
                waiting = send_now(self._send, self._next_message())
            except DISCONNECTED:
                self.broken = True
                self._end()
                return
            self.sent += 1
            if waiting is not None:
                self._hand_over(waiting)

    def _hand_over(self, waiting: PendingSend) -> None:
        self._writing = True
        self._waiting = waiting
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def write(self) -> None:
        """Finishes a send that had to wait, then the queue; runs until cancelled."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._waiting is None:
                    self._waiter = loop.create_future()
                    await self._waiter
                waiting, self._waiting = self._waiting, None
                if waiting is not None:
                    await waiting
                while self._queue:
                    await self._send(self._next_message())
                    self.sent += 1
                self._writing = False
        finally:
            if self._waiting is not None:
                self._waiting.close()
