"""``FakeClock``: a ``motia._runtime.clock.Clock`` that moves only when a test says so."""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timedelta

import anyio
import anyio.lowlevel


class FakeClock:
    """Sleepers wake at their exact moment, in order, when ``advance`` passes it."""

    def __init__(self, start: datetime) -> None:
        self.moment = start
        self._sleepers: list[tuple[datetime, int, anyio.Event]] = []
        self._order = itertools.count()
        self._parked = anyio.Event()

    def now(self) -> datetime:
        return self.moment

    async def sleep_until(self, moment: datetime) -> None:
        if moment <= self.moment:
            await anyio.lowlevel.checkpoint()
            return
        sleeper = (moment, next(self._order), anyio.Event())
        heapq.heappush(self._sleepers, sleeper)
        self._parked.set()
        try:
            await sleeper[2].wait()
        finally:
            if sleeper in self._sleepers:  # cancelled while asleep
                self._sleepers.remove(sleeper)
                heapq.heapify(self._sleepers)

    async def parked(self, count: int) -> None:
        """Wait until ``count`` tasks are asleep on this clock."""
        while len(self._sleepers) < count:
            self._parked = anyio.Event()
            await self._parked.wait()

    async def advance(self, seconds: float) -> None:
        """Move ``seconds`` ahead, stopping at each sleeper's moment to wake it; return once
        every woken sleeper is asleep again (a cron loop sleeps again after each tick)."""
        target = self.moment + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            self.moment = self._sleepers[0][0]
            asleep = len(self._sleepers)
            while self._sleepers and self._sleepers[0][0] == self.moment:
                heapq.heappop(self._sleepers)[2].set()
            await self.parked(asleep)
        self.moment = target
