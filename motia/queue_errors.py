"""Errors of the queue: ``NonRetryableError`` for handlers, ``EnqueueError`` for senders."""

from __future__ import annotations

__all__ = ["EnqueueError", "NonRetryableError"]


class NonRetryableError(Exception):
    """Raised by a queue handler: the message goes to the dead-letter queue without retries."""


class EnqueueError(ValueError):
    """An ``enqueue()`` call is malformed; the message says what to change."""
