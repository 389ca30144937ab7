"""Reading what is live in a runtime into its metrics: before a scrape, and on a timer
in every worker when several share the numbers (multiprocess mode)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING

from motia._runtime.hub import Hub
from motia._runtime.stats import Stats
from motia.queues.backlog import Backlog
from motia.queues.service import QueueService

if TYPE_CHECKING:
    from motia._core.metrics import Metrics

__all__ = ["publish_every", "read_live"]

log = logging.getLogger("motia.metrics")


def read_live(metrics: Metrics, stats: Stats, hub: Hub, queues: QueueService) -> None:
    metrics.runtime_values(stats.values())
    _read_streams(metrics, hub)
    metrics.queues(_queue_rows(queues.backlog))


async def publish_every(
    seconds: float, metrics: Metrics, stats: Stats, hub: Hub, queues: QueueService
) -> None:
    """Keep this worker's share of the live values fresh for whichever worker is scraped."""
    while True:
        try:
            read_live(metrics, stats, hub, queues)
        except Exception:
            log.exception("reading the live metrics failed")
        await asyncio.sleep(seconds)


def _read_streams(metrics: Metrics, hub: Hub) -> None:
    connections = Counter(_transport(sink) for sink in hub.sinks)
    subscribers: Counter[str] = Counter()
    for topic in hub.topics.values():
        subscribers.update(_transport(member.sink) for member in topic.members)
    for transport in ("websocket", "sse"):
        connections.setdefault(transport, 0)
        subscribers.setdefault(transport, 0)
    metrics.streams(connections, subscribers, hub.budget.bytes)


def _transport(sink: object) -> str:
    return str(getattr(sink, "transport", "other"))


def _queue_rows(backlog: Backlog) -> dict[str, dict[str, float]]:
    """The last background reading: a scrape never waits for the backend."""
    now = time.time()
    return {
        topic: {
            "depth": row.depth,
            "in_flight": row.in_flight,
            "retries": row.retries,
            "dead": row.dead,
            "lag_seconds": row.lag(now),
        }
        for topic, row in backlog.topics.items()
    }
