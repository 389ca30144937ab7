"""``ReadDeadlines``: requests waiting for body bytes, given up on after a timeout.

One timer per endpoint sweeps them while the endpoint is busy, rather than a timer per
read: arming and cancelling a timer costs more than the rest of reading a small body.
A read is given up on (its task cancelled) between ``timeout`` and ``timeout`` plus one
sweep interval after it began.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["ReadDeadlines"]

_GONE = float("nan")
_FINEST = 0.04


class ReadDeadlines:
    __slots__ = ("_busy", "_interval", "_loop", "_timer", "_waiting", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._interval = min(1.0, max(timeout, _FINEST) / 4)  # never a busy loop
        self._waiting: dict[asyncio.Task[Any], float] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._busy = False

    def begin(self, task: asyncio.Task[Any]) -> None:
        """Watch ``task``, which is about to wait for body bytes."""
        loop = asyncio.get_running_loop()
        self._waiting[task] = loop.time() + self.timeout
        self._busy = True
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(self._interval, self._sweep)

    def end(self, task: asyncio.Task[Any]) -> bool:
        """Stop watching ``task``; whether it was given up on (and cancelled for it)."""
        return self._waiting.pop(task, _GONE) is _GONE

    def _sweep(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        for task in [task for task, deadline in self._waiting.items() if deadline <= now]:
            del self._waiting[task]
            task.cancel()
        if self._waiting or self._busy:
            self._busy = False
            self._timer = loop.call_later(self._interval, self._sweep)
        else:
            self._timer = None  # idle: the next read arms it again
