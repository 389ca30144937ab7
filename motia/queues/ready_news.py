"""``ReadyNews``: this process's workers hear of deliveries other processes make ready.

A worker that found nothing sleeps until woken or until its next poll
(``idle_poll``). An enqueue wakes the workers of its own process; on a backend that
``announces_ready`` (Redis), a delivery made ready in another process wakes the
worker of its subscriber here too, so an idle process takes work from a busy one at
once. Listening that fails (Redis is down) is retried with capped backoff and
logged once by a ``FailureStreak``; polling goes on meanwhile, so nothing is lost,
only later. Once listening again, every worker looks, for the news it missed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from motia._core.backoff import Backoff
from motia.backends.queue import QueueBackend, Subscriber
from motia.queues.failures import FailureStreak
from motia.queues.worker import QueueWorker

__all__ = ["ReadyNews"]

log = logging.getLogger("motia.queue")


class ReadyNews:
    def __init__(
        self, backend: QueueBackend, workers: Iterable[QueueWorker], *, max_backoff: float = 5.0
    ) -> None:
        self.backend = backend
        self.workers = {worker.subscription.subscriber: worker for worker in workers}
        self._backoff = Backoff(cap=max_backoff)
        self._failures = FailureStreak(log, "listening for deliveries other processes make ready")

    async def run(self) -> None:
        """Listen until cancelled."""
        while True:
            try:
                await self.backend.watch(self._hear)
            except Exception as exc:
                self._failures.failed(exc)
            await self._backoff.wait()

    def _hear(self, subscriber: Subscriber | None) -> None:
        if subscriber is None:  # listening (again): anything may have been missed
            self._failures.succeeded()
            self._backoff.reset()
            for worker in self.workers.values():
                worker.wake.set()
        elif (heard := self.workers.get(subscriber)) is not None:
            heard.wake.set()
