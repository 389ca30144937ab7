"""The queue backend interface and the records it stores.

A backend keeps one *delivery* per subscribing step for every enqueued
message. A worker ``claim``s ready deliveries for its subscription, which
leases them until a deadline; it then ``ack``s, ``retry``s or ``bury``s each
one (moves it to the dead-letter queue). Every call after ``claim`` names the
attempt it is about, so a delivery whose lease expired and was claimed again
is left to its new holder. A lease that runs out (the process died) makes the
delivery ready again: delivery is at least once.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from motia.backends.ops import JSON

__all__ = ["DeadLetter", "Delivery", "QueueBackend", "Subscriber"]


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Who a delivery is for: a step and the index of its queue trigger."""

    step: str
    index: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as handed to one subscriber."""

    id: str
    message_id: str
    topic: str
    subscriber: Subscriber
    data: JSON
    trace_id: str
    group_id: str | None = None
    attempts: int = 0
    available_at: float = 0.0
    traceparent: str | None = None
    """The W3C trace context of the span that sent it, when the sender traced."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A delivery that ran out of attempts (or failed for good), with its last error."""

    id: str
    message_id: str
    topic: str
    step: str
    data: JSON
    trace_id: str
    group_id: str | None
    attempts: int
    error: str
    failed_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "topic": self.topic,
            "step": self.step,
            "data": self.data,
            "trace_id": self.trace_id,
            "group_id": self.group_id,
            "attempts": self.attempts,
            "error": self.error,
            "failed_at": self.failed_at,
        }


class QueueBackend(abc.ABC):
    never_suspends: ClassVar[bool] = False
    """True when no method ever waits (on I/O or a thread): a call completes in one step."""

    announces_ready: ClassVar[bool] = False
    """True when ``watch`` hears of deliveries that other processes make ready; without
    it, workers see those at their next poll."""

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect; called once before any other method."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; pending writes finish first."""

    async def watch(self, ready: Callable[[Subscriber | None], None]) -> None:
        """Until cancelled, call ``ready(subscriber)`` when another process makes a delivery
        of ``subscriber`` ready while it had none ready; ``ready(None)`` once listening, as
        news may have been missed before. Raises when the connection fails. Only for a
        backend that ``announces_ready``."""
        raise NotImplementedError(f"{type(self).__name__} does not announce ready deliveries")

    @abc.abstractmethod
    async def push(self, deliveries: list[Delivery]) -> None:
        """Store all deliveries of one message at once (durably, when the backend is)."""

    @abc.abstractmethod
    async def claim(
        self, subscriber: Subscriber, *, limit: int, lease: float, fifo: bool
    ) -> list[Delivery]:
        """Lease up to ``limit`` ready deliveries; with ``fifo``, only each group's oldest."""

    @abc.abstractmethod
    async def next_due(self, subscriber: Subscriber, *, fifo: bool) -> float | None:
        """The earliest time a delivery of ``subscriber`` may become claimable."""

    @abc.abstractmethod
    async def oldest_waiting(self, subscriber: Subscriber) -> float | None:
        """When the oldest delivery of ``subscriber`` that is due and not leased became due
        (its ``available_at``), or None when there is none; it must not scan the queue."""

    @abc.abstractmethod
    async def ack(self, delivery: Delivery) -> None:
        """The delivery is done: forget it."""

    @abc.abstractmethod
    async def retry(self, delivery: Delivery, *, at: float, error: str) -> None:
        """Make the delivery ready again at time ``at``."""

    @abc.abstractmethod
    async def release(self, delivery: Delivery) -> None:
        """Give the delivery back untouched (shutdown): this attempt does not count."""

    @abc.abstractmethod
    async def bury(self, delivery: Delivery, *, error: str) -> None:
        """Move the delivery to the dead-letter queue."""

    @abc.abstractmethod
    async def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """Dead letters, oldest failure first, optionally for one topic."""

    @abc.abstractmethod
    async def replay(self, ids: list[str] | None = None) -> list[str]:
        """Make dead letters ready again (all when ``ids`` is None); return the ids replayed."""

    @abc.abstractmethod
    async def stats(self) -> dict[str, dict[str, int]]:
        """Per topic: ``depth`` (waiting), ``in_flight`` (leased), ``retries`` (failed once
        or more, not dead)."""
