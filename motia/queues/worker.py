"""``QueueWorker``: runs one queue trigger's handler on the deliveries of its topic.

A worker claims deliveries while it has free slots (``concurrency``), runs
each in its own task bounded by ``visibility_timeout``, and records the
outcome: done, retried after a backoff, or moved to the dead-letter queue. It
never busy-polls: it sleeps until woken (an enqueue in this process, a
finished run, news of a delivery another process made ready: ``ready_news``) or
until the next delivery is due, at most ``idle_poll`` seconds, so that what other
processes write is seen even without news. How a handler
runs (its context, its condition) is the runtime's business: it hands the
worker a ``StepRunner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from motia._project.queue_config import QueueConfig
from motia._project.step import Step
from motia._project.triggers import TriggerCondition, TriggerInfo
from motia.backends.queue import Delivery, QueueBackend
from motia.exceptions import NonRetryableError, SchemaValidationError
from motia.queues.failures import FailureStreak
from motia.queues.topics import Subscription

if TYPE_CHECKING:
    from motia._core.metrics import Metrics

__all__ = ["DEFAULT_CONCURRENCY", "QueueWorker", "StepRunner", "backoff_seconds"]

log = logging.getLogger("motia.queue")

DEFAULT_CONCURRENCY = 10
_LEASE_MARGIN = 1.0
"""Seconds a lease outlives the visibility timeout, so a cancelled run is recorded first."""
_MAX_BACKOFF = 300.0


class StepRunner(Protocol):
    """Runs ``step``'s handler once: makes its context, checks ``condition``, calls it.

    Exceptions reach the worker, which records them as the delivery's failure.
    """

    def __call__(
        self,
        step: Step,
        trigger: TriggerInfo,
        input: Any,
        *,
        condition: TriggerCondition | None,
        trace_id: str,
        traceparent: str | None,
    ) -> Awaitable[Any]: ...


def backoff_seconds(config: QueueConfig, attempt: int) -> float:
    """Delay before retrying after failed attempt number ``attempt`` (1-based)."""
    base = (config.backoff_delay_ms if config.backoff_delay_ms is not None else 1000) / 1000
    if config.backoff_type == "fixed":
        return base
    return float(min(base * 2 ** (attempt - 1), _MAX_BACKOFF))


class QueueWorker:
    def __init__(
        self,
        subscription: Subscription,
        backend: QueueBackend,
        run_step: StepRunner,
        *,
        idle_poll: float = 1.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.subscription = subscription
        self.metrics = metrics
        self.backend = backend
        self.run_step = run_step
        self.idle_poll = idle_poll
        self.wake = asyncio.Event()
        self.running: set[asyncio.Task[None]] = set()
        self.limit = subscription.config.concurrency or DEFAULT_CONCURRENCY
        self._stopping = False
        self._failures = FailureStreak(
            log, f'claiming deliveries for step "{subscription.step.name}"'
        )
        self._trigger = TriggerInfo(
            type="queue", index=subscription.index, topic=subscription.topic
        )

    @property
    def lease(self) -> float:
        return self.subscription.config.visibility_timeout + _LEASE_MARGIN

    # -- the claiming loop -----------------------------------------------------------------

    async def run(self) -> None:
        while not self._stopping:
            self.wake.clear()
            free = self.limit - len(self.running)
            pause = await self._claim_round(free) if free > 0 else self.idle_poll
            if pause == 0:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self.wake.wait()

    async def _claim_round(self, free: int) -> float:
        """Claims up to ``free`` deliveries; the seconds to wait (unless woken) before the
        next round, 0 when this one claimed some and the next should start at once."""
        try:
            pause = 0.0 if await self._claim(free) else await self._until_due()
        except Exception as exc:
            self._failures.failed(exc)
            return self.idle_poll
        self._failures.succeeded()
        return pause

    async def _claim(self, limit: int) -> list[Delivery]:
        sub = self.subscription
        claimed = await self.backend.claim(
            sub.subscriber, limit=limit, lease=self.lease, fifo=sub.fifo
        )
        if self.metrics is not None and claimed:
            _observe_waits(self.metrics, claimed)
        for delivery in claimed:
            if self._stopping:
                await self.backend.release(delivery)
                continue
            task = asyncio.create_task(self._process(delivery))
            self.running.add(task)
            task.add_done_callback(self.running.discard)
        return claimed

    async def _until_due(self) -> float:
        due = await self.backend.next_due(self.subscription.subscriber, fifo=self.subscription.fifo)
        if due is None:
            return self.idle_poll
        return min(self.idle_poll, max(due - time.time(), 0.005))

    async def stop(self, grace: float) -> None:
        """Stop claiming; give running handlers ``grace`` seconds, then hand theirs back."""
        self._stopping = True
        self.wake.set()
        if not self.running:
            return
        _, pending = await asyncio.wait(set(self.running), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                '%d run(s) of step "%s" unfinished at shutdown; they stay queued',
                len(pending),
                self.subscription.step.name,
            )
            await asyncio.gather(*pending, return_exceptions=True)

    # -- one delivery ----------------------------------------------------------------------

    async def _process(self, delivery: Delivery) -> None:
        try:
            await self._attempt(delivery)
        except asyncio.CancelledError:
            await asyncio.shield(self.backend.release(delivery))
            raise
        except ConnectionError as exc:  # the store is down: an outage, not a bug
            log.warning(
                "delivery %s ran, but its outcome could not be recorded (%s); it runs again "
                "once its lease runs out",
                delivery.id,
                exc,
            )
        except Exception:
            # The lease runs out and the delivery comes back: nothing is lost.
            log.exception("queue bookkeeping failed for delivery %s", delivery.id)
        finally:
            # Leave ``running`` before waking the loop: the done callback comes later, and
            # a loop that still counted this run as busy would sleep until ``idle_poll``.
            self.running.discard(asyncio.current_task())
            self.wake.set()

    async def _attempt(self, delivery: Delivery) -> None:
        sub = self.subscription
        try:
            input = sub.schema.validate(delivery.data) if sub.schema is not None else delivery.data
        except SchemaValidationError as exc:
            await self._bury(delivery, f"invalid input: {exc}")
            return
        await self._record(delivery, await self._run_handler(input, delivery))

    async def _run_handler(self, input: Any, delivery: Delivery) -> BaseException | None:
        sub = self.subscription
        timeout = asyncio.timeout(sub.config.visibility_timeout)
        try:
            async with timeout:
                await self.run_step(
                    sub.step,
                    self._trigger,
                    input,
                    condition=sub.trigger.condition,
                    trace_id=delivery.trace_id,
                    traceparent=delivery.traceparent,
                )
        except TimeoutError as exc:
            if timeout.expired():
                return TimeoutError(
                    f"visibility timeout of {sub.config.visibility_timeout}s exceeded"
                )
            return exc
        except Exception as exc:
            return exc
        return None

    async def _record(self, delivery: Delivery, error: BaseException | None) -> None:
        if error is None:
            await self.backend.ack(delivery)
            return
        message = f"{type(error).__name__}: {error}"
        retryable = not isinstance(error, NonRetryableError)
        if retryable and delivery.attempts <= self.subscription.config.max_retries:
            delay = backoff_seconds(self.subscription.config, delivery.attempts)
            await self.backend.retry(delivery, at=time.time() + delay, error=message)
            if self.metrics is not None:
                self.metrics.retried(delivery.topic)
            log.warning(
                'step "%s" failed on message %s (attempt %d), retrying in %.3gs: %s',
                self.subscription.step.name,
                delivery.id,
                delivery.attempts,
                delay,
                message,
                extra=self._about(delivery),
            )
            return
        await self._bury(delivery, message)

    async def _bury(self, delivery: Delivery, error: str) -> None:
        await self.backend.bury(delivery, error=error)
        if self.metrics is not None:
            self.metrics.dead_lettered(delivery.topic)
        log.error(
            'step "%s": message %s moved to the dead-letter queue after %d attempt(s): %s '
            "(motia queue replay %s)",
            self.subscription.step.name,
            delivery.id,
            delivery.attempts,
            error,
            delivery.id,
            extra=self._about(delivery),
        )

    def _about(self, delivery: Delivery) -> dict[str, str | None]:
        """The step and trace a line about ``delivery`` belongs to (filters find it by step)."""
        return {"step": self.subscription.step.name, "trace_id": delivery.trace_id}


def _observe_waits(metrics: Metrics, claimed: list[Delivery]) -> None:
    """How long each delivery waited between being due and being claimed."""
    now = time.time()
    for delivery in claimed:
        metrics.waited(delivery.topic, max(now - delivery.available_at, 0.0))
