"""Module-level twins for Motia 1.0 code: ``logger``, ``enqueue``, bound to the running handler.

``from motia import logger`` works inside any handler: the object looks up the
context of the handler being run (a context variable, so concurrent handlers
and worker threads each see their own).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

from motia.logs import StepLogger

__all__ = ["ModuleLogger", "current_context", "enqueue", "require_context"]

current_context: ContextVar[Any] = ContextVar("motia_context", default=None)
_FALLBACK = StepLogger()


def require_context(what: str) -> Any:
    ctx = current_context.get()
    if ctx is None:
        raise RuntimeError(f"{what} can only be used while a step handler is running")
    return ctx


class ModuleLogger:
    """``from motia import logger``: the running step's logger, or a plain one outside."""

    def __getattr__(self, name: str) -> Any:
        ctx = current_context.get()
        return getattr(ctx.logger if ctx is not None else _FALLBACK, name)


def enqueue(event: dict[str, Any]) -> asyncio.Future[None]:
    """Start enqueueing now; awaiting the result waits for it (an un-awaited call still runs)."""
    ctx = require_context("enqueue()")
    future: asyncio.Future[None] = asyncio.ensure_future(ctx.enqueue(event))
    return future
