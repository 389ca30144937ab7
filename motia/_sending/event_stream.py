"""One open ``text/event-stream`` response on the bounded sender, for stream SSE
subscriptions and the console's live views alike.

``EventStream.run`` starts the response, lets the caller subscribe (``opened``),
then sends what the ``EventSender`` gets until the sender ends (shutdown, a
slow client) or the client goes away; ``finish`` ends the body unless the
client is gone, with ``event: error`` (code ``SLOW_CONSUMER``) for a client that
reads too slowly. Idle streams get a ``: ping`` comment after each heartbeat
interval of silence, so proxies keep them open and a vanished client is noticed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anyio

from motia._core.asgi import Message, Receive, Send
from motia._runtime.hub import Hub
from motia._sending.chunk_writer import chunk_cycle
from motia._sending.sender import DISCONNECTED, SLOW_CONSUMER, Sender, SendPolicy
from motia.sse import PING, encode_event

__all__ = ["EventSender", "EventStream"]

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_END_TIMEOUT = 1.0


class EventSender(Sender[bytes]):
    """One SSE response's outgoing frames; ``put`` never blocks.

    Frames queued together go out joined in one body chunk, written straight to the
    server's transport when it takes them (see ``chunk_writer``). ``heartbeat`` sends
    a ``: ping`` once nothing went out for an interval.
    """

    __slots__ = ("_beat", "_cycle", "_last_out")

    describes = "an event stream"

    def __init__(self, policy: SendPolicy, stop: Callable[[], None], send: Send) -> None:
        super().__init__(policy, stop, send)
        self._beat: asyncio.TimerHandle | None = None
        self._last_out = 0.0
        self._cycle = chunk_cycle(send)

    def shutdown(self) -> None:
        self.end()

    def heartbeat(self, interval: float) -> None:
        """Ping every ``interval`` seconds of silence, until ``stop_heartbeat``."""
        if interval > 0:
            loop = asyncio.get_running_loop()
            self._last_out = loop.time()
            self._beat = loop.call_later(interval, self._on_beat, interval)

    def stop_heartbeat(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None

    def _on_beat(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        silent = loop.time() - self._last_out
        if silent >= interval * 0.98 and not self._queue:
            self.put(PING)
            silent = 0.0
        self._beat = loop.call_later(interval - silent, self._on_beat, interval)

    def _send_queued(self) -> None:
        cycle = self._cycle
        if cycle is not None and self._queue and not self._writing and self._write_joined(cycle):
            self._last_out = asyncio.get_running_loop().time()
            return
        super()._send_queued()

    def _next_message(self) -> Message:
        self._last_out = asyncio.get_running_loop().time()
        chunk = b"".join(self._queue)
        self._queue.clear()
        self.queued = 0
        return {"type": "http.response.body", "body": chunk, "more_body": True}


class EventStream:
    """Runs one event-stream response; ``stop`` ends it from anywhere (the sender's stop)."""

    def __init__(self, hub: Hub, send: Send, receive: Receive) -> None:
        self.hub = hub
        self.send = send
        self.receive = receive
        self.scope = anyio.CancelScope()
        self.stop = self.scope.cancel
        self.disconnected = False
        self.sender: EventSender | None = None

    async def run(
        self, sender: EventSender, heartbeat: float, opened: Callable[[], Awaitable[None]]
    ) -> None:
        """Send until the sender ends or the client leaves; the shutdown ends it too."""
        self.sender = sender
        await self.send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        self.hub.sinks.add(sender)
        try:
            with self.scope:
                if self.hub.closing:
                    sender.shutdown()
                await opened()
                sender.heartbeat(heartbeat)
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._watch_disconnect)
                    await sender.write()
        except DISCONNECTED:
            self.disconnected = True
        finally:
            sender.stop_heartbeat()
            sender.shutdown()  # nothing may follow the end of the body
            self.hub.sinks.discard(sender)

    async def _watch_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self.scope.cancel()

    async def finish(self) -> None:
        """End the body, unless the client is gone; tell a slow client why it ends."""
        sender = self.sender
        if self.disconnected or sender is None or sender.broken:
            return
        if sender.farewell is not None:
            error = encode_event({"code": SLOW_CONSUMER, "message": sender.farewell}, event="error")
            await sender.say_farewell({"type": "http.response.body", "body": error})
            return
        with anyio.move_on_after(_END_TIMEOUT):
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
