"""The handler being run, for Motia's module-level API.

``from motia import logger, enqueue, stateManager, Stream`` work inside any handler:
each looks up the context of the handler being run (a context variable, so
concurrent handlers and worker threads each see their own). ``stateManager``,
``Stream`` and ``enqueue`` reach it through the engine client (``local_engine``); as
in Motia's SDK their calls are synchronous and return plain values, and
``sync_calls`` says how each thread gets its answer.

Motia's own README and examples also write ``await todo_stream.get(...)``; a call
whose result its caller awaits returns the async call instead, which never blocks.
"""

from __future__ import annotations

import dis
import sys
from contextvars import ContextVar
from typing import Any

from motia._runtime.context import FlowContext
from motia._runtime.logs import StepLogger

__all__ = ["ModuleLogger", "awaited", "current_context", "require_context"]

current_context: ContextVar[FlowContext[Any] | None] = ContextVar("motia_context", default=None)
_FALLBACK = StepLogger()


_CACHE = dis.opmap.get("CACHE", 0)
_GET_AWAITABLE = dis.opmap["GET_AWAITABLE"]


def awaited(depth: int) -> bool:
    """Whether the frame ``depth`` levels up awaits the value of the call it is making.

    ``await f()`` compiles to a call followed (after its inline caches) by
    GET_AWAITABLE; the caller's next instruction tells which style it is written in.
    """
    frame = sys._getframe(depth + 1)
    code = frame.f_code.co_code
    offset = frame.f_lasti + 2
    while offset < len(code) and code[offset] == _CACHE:
        offset += 2
    return offset < len(code) and code[offset] == _GET_AWAITABLE


def require_context(what: str) -> FlowContext[Any]:
    ctx = current_context.get()
    if ctx is None:
        raise RuntimeError(
            f"{what} can only be used while a step handler is running (it acts on the app "
            "running that handler); in a test, run the handler with motia.testing"
        )
    return ctx


class ModuleLogger:
    """``from motia import logger``: the running step's logger, or a plain one outside."""

    def __getattr__(self, name: str) -> Any:
        ctx = current_context.get()
        return getattr(ctx.logger if ctx is not None else _FALLBACK, name)
