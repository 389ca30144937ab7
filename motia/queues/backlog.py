"""``Backlog``: how much every topic's queue holds and how long it has kept it waiting.

Read from the backend in the background (``run``), never on a request's way: the
admission check, the metrics and whoever else asks get the last reading. A reading
asks the backend for its per-topic counts and, for each subscriber, when its oldest
due delivery became due; the lag is measured from that time when it is asked for, so
it keeps growing between readings while nothing is claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from motia.backends.queue import QueueBackend
from motia.queues.failures import FailureStreak
from motia.queues.topics import Subscription

__all__ = ["Backlog", "TopicBacklog"]

log = logging.getLogger("motia.queue")

_MAX_SHARE = 0.05
"""The share of the time readings may take: a slow one spaces the next ones out."""


@dataclass(frozen=True, slots=True)
class TopicBacklog:
    """One topic's queue as last read (deliveries: one per subscribing step)."""

    depth: int = 0
    """Deliveries waiting, due or not (delayed, backing off, behind their FIFO group)."""
    in_flight: int = 0
    retries: int = 0
    dead: int = 0
    oldest_due: float | None = None
    """When the oldest due, unleased delivery became due (seconds since the epoch)."""

    def lag(self, now: float) -> float:
        """Seconds the oldest due delivery has waited, as of ``now``."""
        return 0.0 if self.oldest_due is None else max(now - self.oldest_due, 0.0)


class Backlog:
    """The last reading of every topic's queue."""

    def __init__(
        self,
        backend: QueueBackend,
        subscriptions: Iterable[Subscription],
        *,
        interval: float,
        on_reading: Callable[[Backlog], None] | None = None,
    ) -> None:
        self.backend = backend
        self.subscriptions = list(subscriptions)
        self.interval = interval
        self.on_reading = on_reading
        self.topics: dict[str, TopicBacklog] = {}
        self.read_at: float | None = None
        """When the last reading was taken; None before the first."""
        self._failures = FailureStreak(log, "reading the queue depth and lag")
        self._stopping = asyncio.Event()

    def total_depth(self) -> int:
        return sum(topic.depth for topic in self.topics.values())

    def max_lag(self, now: float) -> float:
        return max((topic.lag(now) for topic in self.topics.values()), default=0.0)

    async def run(self) -> None:
        """Read now, then every ``interval`` seconds (or less often, see ``_MAX_SHARE``),
        until ``stop``."""
        self._stopping.clear()
        while not self._stopping.is_set():
            started = time.perf_counter()
            await self._read_logging_failures()
            pause = self.pause_after(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)

    def stop(self) -> None:
        """End ``run`` at once. Cancelling its task is not enough on its own: a Redis
        client may swallow a cancellation that lands while a pipeline is being read."""
        self._stopping.set()

    def pause_after(self, took: float) -> float:
        """Seconds to wait after a reading that took ``took`` seconds."""
        return max(self.interval, took / _MAX_SHARE - took)

    async def read(self) -> None:
        rows = await self.backend.stats()
        dead: dict[str, int] = {}
        for letter in await self.backend.dead_letters():
            dead[letter.topic] = dead.get(letter.topic, 0) + 1
        oldest = await self._oldest_due()
        topics = {}
        for topic in {*rows, *dead, *oldest}:
            row = rows.get(topic, {})
            topics[topic] = TopicBacklog(
                depth=row.get("depth", 0),
                in_flight=row.get("in_flight", 0),
                retries=row.get("retries", 0),
                dead=dead.get(topic, 0),
                oldest_due=oldest.get(topic),
            )
        self.topics, self.read_at = topics, time.time()
        if self.on_reading is not None:
            self.on_reading(self)

    async def _oldest_due(self) -> dict[str, float]:
        oldest: dict[str, float] = {}
        for sub in self.subscriptions:
            due = await self.backend.oldest_waiting(sub.subscriber)
            if due is not None and due < oldest.get(sub.topic, due + 1):
                oldest[sub.topic] = due
        return oldest

    async def _read_logging_failures(self) -> None:
        try:
            await self.read()
        except Exception as exc:  # the last reading stays
            self._failures.failed(exc)
        else:
            self._failures.succeeded()
