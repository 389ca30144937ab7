"""Motia's ``motia.enqueue``: ``enqueue(event)`` on behalf of the running step.

As in Motia's SDK, a trigger request ``{"function_id": "enqueue", "payload": event}``
to the engine client; this process's client checks the event at once (an undeclared
topic raises here) and the app's loop finishes the write right after, logging a
failure then. ``await enqueue(...)`` waits for the write.
"""

from __future__ import annotations

from typing import Any

from motia._runtime.current import awaited
from motia._runtime.engine_calls import call_engine
from motia.iii import get_instance

__all__ = ["enqueue"]


def enqueue(event: dict[str, Any]) -> None:
    """Send ``{"topic", "data", "messageGroupId"?}``."""
    return call_engine(get_instance(), "enqueue", event, awaited=awaited(1))  # type: ignore[no-any-return]
