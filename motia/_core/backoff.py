"""``Backoff``: the waits between attempts to reach a server that went away.

Each wait doubles, up to a cap, and is scaled by a random 0.5 to 1 so that the
processes that lost the same server do not all retry at the same moment.
"""

from __future__ import annotations

import asyncio
import random

__all__ = ["Backoff"]


class Backoff:
    def __init__(self, first: float = 0.05, cap: float = 5.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    async def wait(self) -> None:
        """Sleep for the next wait, and make the one after it longer."""
        await asyncio.sleep(self._next * random.uniform(0.5, 1.0))
        self._next = min(self._next * 2, self.cap)

    def reset(self) -> None:
        """The server answered: the next wait is the first again."""
        self._next = self.first
