"""``QueueService``: ``enqueue`` with fan-out to every subscriber, the workers, dead letters.

The app's runtime owns one service. ``enqueue`` stores one delivery per
subscribing queue trigger (each step gets its own copy) and wakes the
workers of this process, unless the topic's queue is past a limit
(``admission``); ``start``/``stop`` run one ``QueueWorker`` per queue trigger,
the news of deliveries other processes make ready (``ready_news``) and, when
metrics or a limit need it, the background reading of every queue's depth and
lag (``backlog``). Dead letters can be listed and replayed while the
app runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from motia._core.spans import Tracing
from motia._core.tracing import new_trace_id
from motia._project.step import Step
from motia.backends.ops import ensure_json
from motia.backends.queue import DeadLetter, Delivery, QueueBackend
from motia.exceptions import EnqueueError, UnstorableValue
from motia.queues.admission import Admission
from motia.queues.backlog import Backlog
from motia.queues.ready_news import ReadyNews
from motia.queues.topics import Subscription, declared_topics, subscriptions, topic_warnings
from motia.queues.worker import QueueWorker, StepRunner
from motia.settings import Settings

if TYPE_CHECKING:
    from motia._core.metrics import Metrics

__all__ = ["QueueService"]

log = logging.getLogger("motia.queue")
_GROUP_KEYS = ("messageGroupId", "message_group_id")


class QueueService:
    def __init__(
        self,
        steps: Iterable[Step],
        backend: QueueBackend,
        settings: Settings,
        run_step: StepRunner,
        *,
        idle_poll: float = 1.0,
        tracing: Tracing | None = None,
        metrics: Metrics | None = None,
        count_refusal: Callable[[str], None] = lambda limit: None,
    ) -> None:
        steps = list(steps)
        self.backend = backend
        self.settings = settings
        self.tracing = tracing
        subs = subscriptions(steps)
        self.workers = [
            QueueWorker(sub, backend, run_step, idle_poll=idle_poll, metrics=metrics)
            for sub in subs
        ]
        self.admission = Admission(settings, count_refusal) if Admission.wanted(settings) else None
        self.backlog = Backlog(
            backend,
            subs,
            interval=settings.queue_reading_interval,
            on_reading=None if self.admission is None else self.admission.judge,
        )
        self._read_backlog = metrics is not None or self.admission is not None
        self._by_topic: dict[str, list[QueueWorker]] = defaultdict(list)
        for worker in self.workers:
            self._by_topic[worker.subscription.topic].append(worker)
        self._declared = {step.name: declared_topics(step.config) for step in steps}
        self._warned: set[tuple[str, str]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._reading: asyncio.Task[None] | None = None
        self._news: asyncio.Task[None] | None = None
        for warning in topic_warnings(steps):
            log.warning("%s", warning)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        await self.backend.open()
        self._tasks = [asyncio.create_task(worker.run()) for worker in self.workers]
        if self._read_backlog:
            self._reading = asyncio.create_task(self.backlog.run())
        if self.workers and self.backend.announces_ready:
            self._news = asyncio.create_task(ReadyNews(self.backend, self.workers).run())

    async def stop(self) -> None:
        """Stop claiming, drain running handlers for ``graceful_timeout``, close the backend."""
        grace = self.settings.graceful_timeout
        if self._news is not None:
            self._news.cancel()
            await asyncio.gather(self._news, return_exceptions=True)
            self._news = None
        if self._reading is not None:
            self.backlog.stop()
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)
            self._reading = None
        await asyncio.gather(*(worker.stop(grace) for worker in self.workers))
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.backend.close()

    # -- sending ----------------------------------------------------------------------------

    async def enqueue(
        self, event: Any, *, step: str | None = None, trace_id: str | None = None
    ) -> str:
        """Store ``event`` for every subscriber of its topic; return the message id."""
        topic, data, group_id = _parse_event(event)
        if step is not None:
            self._check_declared(step, topic)
        workers = self._by_topic.get(topic, [])
        if group_id is None and any(w.subscription.fifo for w in workers):
            fifo = [w.subscription.step.name for w in workers if w.subscription.fifo]
            raise EnqueueError(
                f'topic "{topic}" has FIFO subscriber(s) {fifo}: enqueue needs a '
                '"messageGroupId", e.g. {"topic": ..., "data": ..., "messageGroupId": "order-1"}'
            )
        message_id, trace_id = uuid.uuid4().hex, trace_id or new_trace_id()
        if not workers:
            log.debug('message %s to topic "%s" has no subscriber', message_id, topic)
            return message_id
        if self.admission is not None:
            self.admission.admit(topic)
        if self.tracing is None:
            await self._push(workers, message_id, data, trace_id, group_id, None)
            return message_id
        attributes = {"motia.step.name": step, "messaging.destination.name": topic}
        with self.tracing.operation("enqueue", attributes):
            traceparent = self.tracing.traceparent()
            await self._push(workers, message_id, data, trace_id, group_id, traceparent)
        return message_id

    async def _push(
        self,
        workers: list[QueueWorker],
        message_id: str,
        data: Any,
        trace_id: str,
        group_id: str | None,
        traceparent: str | None,
    ) -> None:
        """One delivery per subscriber, stored at once; this process's workers are woken."""
        deliveries = [
            _delivery(w.subscription, message_id, data, trace_id, group_id, traceparent)
            for w in workers
        ]
        await self.backend.push(deliveries)
        for worker in workers:
            worker.wake.set()
        if self.backend.never_suspends:
            # The woken workers claim before the sender goes on: a handler enqueueing in
            # a loop would otherwise hold back every message until it returns.
            await asyncio.sleep(0)

    def _check_declared(self, step: str, topic: str) -> None:
        declared = self._declared.get(step)
        if declared is None or topic in declared or (step, topic) in self._warned:
            return
        self._warned.add((step, topic))
        log.warning(
            'step "%s" enqueued to topic "%s", which is not in its config["enqueues"]; '
            "add it there (the message is delivered anyway)",
            step,
            topic,
        )

    # -- dead letters -----------------------------------------------------------------------

    async def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        return await self.backend.dead_letters(topic)

    async def stats(self) -> dict[str, dict[str, int]]:
        """Per topic: waiting messages (``depth``), ``in_flight`` and ``retries``."""
        return await self.backend.stats()

    async def replay(self, ids: list[str] | None = None) -> list[str]:
        """Send dead letters back to their step (all of them when ``ids`` is None)."""
        replayed = await self.backend.replay(ids)
        for worker in self.workers:
            worker.wake.set()
        return replayed


def _parse_event(event: Any) -> tuple[str, Any, str | None]:
    if not isinstance(event, dict) or not isinstance(event.get("topic"), str):
        raise EnqueueError(
            'enqueue() takes {"topic": "name", "data": {...}, "messageGroupId": optional}, '
            f"got {event!r}"
        )
    topic: str = event["topic"]
    group_id = next((event[k] for k in _GROUP_KEYS if event.get(k) is not None), None)
    if group_id is not None and not isinstance(group_id, str):
        raise EnqueueError(f"messageGroupId must be a string, got {group_id!r}")
    try:
        data = ensure_json(event.get("data"))
    except UnstorableValue as exc:
        raise EnqueueError(f'data for topic "{topic}" cannot be queued: {exc}') from None
    return topic, data, group_id


def _delivery(
    sub: Subscription,
    message_id: str,
    data: Any,
    trace_id: str,
    group_id: str | None,
    traceparent: str | None,
) -> Delivery:
    return Delivery(
        id=uuid.uuid4().hex,
        message_id=message_id,
        topic=sub.topic,
        subscriber=sub.subscriber,
        data=data,
        trace_id=trace_id,
        group_id=group_id,
        available_at=time.time() + sub.config.delay_seconds,
        traceparent=traceparent,
    )
