"""Motia's ``motia.enqueue`` import path: ``enqueue(event)`` for the running step."""

from motia._runtime.current import enqueue

__all__ = ["enqueue"]
