"""The console's live views: pages that follow log lines or store changes as SSE.

Each open page is an ``EventStream`` with its own bounded ``EventSender``, the
mechanism and policy every live connection of the app shares: publishing
never waits for a page, and a page that falls too far behind is ended (and
counted); its ``EventSource`` reconnects after a second and starts again from
the backlog. ``LiveView.publish`` may be called from any thread (sync handlers
log from worker threads); the frames are put on the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import anyio
from starlette.responses import Response

from motia._core.asgi import Receive, Scope, Send
from motia._runtime.hub import Hub
from motia._sending.event_stream import EventSender, EventStream
from motia._sending.sender import SendPolicy
from motia.sse import encode_event

__all__ = ["PING_INTERVAL", "LiveEvents", "LiveView"]

PING_INTERVAL = 10.0
_FIRST = encode_event(retry=1000)
_READY = encode_event("{}", event="ready")


class LiveView:
    """The open pages following one kind of message (log lines, store changes)."""

    def __init__(self) -> None:
        self.senders: set[EventSender] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0

    def start(self) -> None:
        """Bind to the running loop: frames published from other threads are put there."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    def publish(self, frame: bytes) -> None:
        """Hand ``frame`` to every page; never blocks, safe from any thread."""
        loop = self._loop
        if loop is None or not self.senders:
            return
        if threading.get_ident() == self._loop_thread:
            self._put(frame)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._put, frame)

    def _put(self, frame: bytes) -> None:
        for sender in tuple(self.senders):
            sender.put(frame)

    def shutdown(self) -> None:
        for sender in tuple(self.senders):
            sender.shutdown()


class LiveEvents(Response):
    """A ``text/event-stream`` of a backlog, then the view's live frames."""

    def __init__(
        self, view: LiveView, backlog: Callable[[], list[bytes]], hub: Hub, policy: SendPolicy
    ) -> None:
        super().__init__(media_type="text/event-stream")
        self.view = view
        self.backlog = backlog
        self.hub = hub
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = EventStream(self.hub, send, receive)
        sender = EventSender(self.policy, stream.stop, send)

        async def opened() -> None:
            # Backlog and joining in one step: no line between them is lost or repeated.
            sender.put(_FIRST + b"".join(self.backlog()) + _READY)
            self.view.senders.add(sender)

        try:
            await stream.run(sender, PING_INTERVAL, opened)
        finally:
            self.view.senders.discard(sender)
            with anyio.CancelScope(shield=True):
                await stream.finish()
