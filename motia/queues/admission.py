"""``Admission``: refuses ``enqueue`` to a topic whose queue is past a limit.

Judged on each backlog reading, not on each enqueue: an enqueue only looks its topic
up among the topics the last reading found full, so it costs no round trip to the
backend, and a queue may pass a limit by what arrives between two readings. Each
refusal is counted (``hit_max_queue_depth``, ``hit_max_queue_lag``); the first of a
burst is logged, and the end of the burst, when a reading finds the topic under its
limits again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from motia.exceptions import QueueFull
from motia.queues.backlog import Backlog, TopicBacklog
from motia.settings import Settings

__all__ = ["MAX_RETRY_AFTER", "Admission"]

log = logging.getLogger("motia.queue")

MAX_RETRY_AFTER = 60
"""The longest ``Retry-After`` (seconds) a refusal suggests, whatever the estimate."""


@dataclass(slots=True)
class _Full:
    limit: str
    value: int | float
    error: str
    retry_after: int
    refused: int = 0


class Admission:
    def __init__(self, settings: Settings, count: Callable[[str], None]) -> None:
        self.max_depth = settings.max_queue_depth
        self.max_lag = settings.max_queue_lag
        self.count = count
        """Counts one refusal for passing the ``Settings`` field it is given."""
        self._full: dict[str, _Full] = {}

    @staticmethod
    def wanted(settings: Settings) -> bool:
        return bool(settings.max_queue_depth or settings.max_queue_lag)

    def admit(self, topic: str) -> None:
        """Raise ``QueueFull`` if the last reading found ``topic``'s queue past a limit."""
        full = self._full.get(topic)
        if full is None:
            return
        self.count(full.limit)
        full.refused += 1
        if full.refused == 1:
            log.warning(
                'enqueue to topic "%s" refused: %s (%s=%s); refusals are counted, not logged, '
                "until it drains",
                topic, full.error, full.limit, full.value,
            )  # fmt: skip
        error = {"error": full.error, "limit": full.value}
        raise QueueFull(topic, error, limit=full.limit, retry_after=full.retry_after)

    def judge(self, backlog: Backlog) -> None:
        """Note which topics the reading ``backlog`` finds past a limit."""
        now = time.time()
        full: dict[str, _Full] = {}
        for topic, row in backlog.topics.items():
            verdict = self._verdict(row, now)
            if verdict is None:
                continue
            before = self._full.get(topic)
            if before is not None and before.limit == verdict.limit:
                verdict.refused = before.refused  # the same burst goes on
            full[topic] = verdict
        for topic, ended in self._full.items():
            if topic not in full and ended.refused:
                log.info(
                    'topic "%s" takes messages again (%d enqueue(s) refused)', topic, ended.refused
                )
        self._full = full

    def _verdict(self, row: TopicBacklog, now: float) -> _Full | None:
        lag = row.lag(now)
        if self.max_depth and row.depth >= self.max_depth:
            # Little's law: the oldest due delivery waited ``lag`` for ``depth`` before it.
            excess = row.depth - self.max_depth + 1
            seconds = excess * lag / row.depth if lag else 1.0
            error = "Server busy: too many messages waiting"
            return _Full("max_queue_depth", self.max_depth, error, _bounded(seconds))
        if self.max_lag and lag >= self.max_lag:
            error = "Server busy: messages wait too long"
            return _Full("max_queue_lag", self.max_lag, error, _bounded(lag - self.max_lag))
        return None


def _bounded(seconds: float) -> int:
    return min(max(math.ceil(seconds), 1), MAX_RETRY_AFTER)
