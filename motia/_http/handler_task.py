"""``HandlerTask``: an event-stream request's handler as the root of a task of its own.

Every wake-up of a handler resumes its task's whole chain of coroutines: the
server's, each middleware's (many, when the app is mounted in a larger one), the
app's, then the handler's. An event stream may be woken thousands of times, so a
request that asks for one (``Accept: text/event-stream``, as ``EventSource`` sends)
runs its handler in a task whose chain starts at the handler. The request task waits
for it, and once the response streams it watches the client in place of the body's
watcher task: the connection still costs two tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio

__all__ = ["HandlerTask", "asks_for_event_stream"]


def asks_for_event_stream(headers: dict[str, str]) -> bool:
    return "text/event-stream" in headers.get("accept", "")


class HandlerTask:
    """Runs ``handler`` in a new task (in a copy of the current context, as tasks do)."""

    __slots__ = ("_streaming", "task")

    def __init__(self, handler: Coroutine[Any, Any, Any]) -> None:
        loop = asyncio.get_running_loop()
        self.task = loop.create_task(handler)
        self._streaming: asyncio.Future[None] = loop.create_future()

    def want_watching(self) -> None:
        """The response streams from now on: the request task is to watch the client."""
        if not self._streaming.done():
            self._streaming.set_result(None)

    async def outcome(self, watch: Callable[[], Awaitable[None]]) -> Any:
        """The handler's result (or its exception), waited for in the request task, which
        runs ``watch`` (returning once the client is gone) while the response streams.
        Cancelling the request task cancels the handler and waits for it to end."""
        task = self.task
        try:
            await asyncio.wait([task, self._streaming], return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                await self._watch_until_done(watch)
                await asyncio.wait([task])  # the client left: the watch cancelled the handler
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # retrieved: it is the request task's cancellation that goes on
            raise
        return task.result()

    async def _watch_until_done(self, watch: Callable[[], Awaitable[None]]) -> None:
        with anyio.CancelScope() as scope:

            def stop(_: object) -> None:
                scope.cancel()

            self.task.add_done_callback(stop)
            try:
                await watch()
            finally:
                self.task.remove_done_callback(stop)
