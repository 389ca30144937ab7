"""``Clock``: where the cron scheduler reads the time and waits for the next tick.

The scheduler takes one so that tests can move time by hand and check exact
firing times; ``SYSTEM_CLOCK`` is the real one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import anyio

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""

    async def sleep_until(self, moment: datetime) -> None:
        """Return at ``moment`` (at once when it has passed)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        await anyio.sleep(max(0.0, (moment - self.now()).total_seconds()))


SYSTEM_CLOCK = SystemClock()
