"""Cancelling a handler from outside (client gone, slow client, shutdown), asyncio-native.

The task that runs the handler (the request's own, or one of the handler's own:
``handler_task``) may be asked to stop by a watcher or by the shutdown. It is only
cancelled while it is awaiting inside the handler, so a late request can never cut
into the sending of the reply, and the cancellation is counted back
(``Task.uncancel``) so that an outer cancellation, such as the server's own, still
propagates.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["HandlerCancellation"]


class HandlerCancellation:
    """``cancel()`` may come from any task while the handler runs; the request task
    calls ``settle()`` as soon as the handler is done, however it ended."""

    __slots__ = ("_active", "_requested", "_task")

    def __init__(self, task: asyncio.Task[Any] | None) -> None:
        self._task = task
        self._active = True
        self._requested = False

    def cancel(self) -> None:
        if self._active and not self._requested and self._task is not None:
            self._requested = True
            self._task.cancel()

    def settle(self, *, cancelled: bool = False) -> bool:
        """No cancelling from now on. ``cancelled``: a ``CancelledError`` ended the handler;
        returns whether this cancellation alone caused it (then it is counted back)."""
        self._active = False
        if not self._requested or self._task is None:
            return False
        self._requested = False
        # Counted back even when the handler swallowed the cancellation and returned.
        return self._task.uncancel() == 0 and cancelled
