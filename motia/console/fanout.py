"""Bounded fan-out to console viewers: the app never waits for a viewer.

Every viewer owns a small queue. ``Fanout.publish`` appends to each queue and
returns at once, from any thread; a viewer whose queue is full (a slow
browser, a stalled connection) loses the message and learns how many it lost
on its next read. Nothing here can slow down or block a step.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Iterator

__all__ = ["DEFAULT_VIEWER_QUEUE", "Fanout", "Viewer"]

DEFAULT_VIEWER_QUEUE = 1000


class Viewer:
    """One connected page: a bounded queue of encoded messages and a drop counter."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self.loop = loop
        self.capacity = capacity
        self.queue: deque[str] = deque()
        self.dropped = 0
        self.closed = False
        self._ready = asyncio.Event()
        self._loop_thread = threading.get_ident()

    def offer(self, message: str) -> None:
        """Queue ``message`` or drop it when full; never blocks, safe from any thread."""
        if len(self.queue) >= self.capacity:
            self.dropped += 1
            return
        self.queue.append(message)
        self._wake()

    def shutdown(self) -> None:
        self.closed = True
        self._wake()

    def push(self, message: object) -> None:
        """Part of the hub's sink interface (for shutdown tracking); nothing to do."""

    def _wake(self) -> None:
        if self._ready.is_set():
            return
        if threading.get_ident() == self._loop_thread:
            self._ready.set()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._ready.set)

    async def wait(self, timeout: float) -> None:
        """Until a message is queued, the viewer is shut down, or ``timeout`` passes."""
        if self.queue or self.closed:
            return
        self._ready.clear()
        if self.queue or self.closed:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            pass

    def drain(self) -> Iterator[str]:
        while self.queue:
            yield self.queue.popleft()

    def take_dropped(self) -> int:
        dropped, self.dropped = self.dropped, 0
        return dropped


class Fanout:
    """The set of viewers of one kind of message (log lines, store changes)."""

    def __init__(self, capacity: int = DEFAULT_VIEWER_QUEUE) -> None:
        self.capacity = capacity
        self.viewers: set[Viewer] = set()

    def join(self) -> Viewer:
        viewer = Viewer(asyncio.get_running_loop(), self.capacity)
        self.viewers.add(viewer)
        return viewer

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def publish(self, message: str) -> None:
        # Iterate over a copy: viewers join and leave from the event loop thread.
        for viewer in tuple(self.viewers):
            viewer.offer(message)

    def shutdown(self) -> None:
        for viewer in tuple(self.viewers):
            viewer.shutdown()
