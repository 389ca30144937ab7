"""Motia's module-level API, bound to the running handler.

``from motia import logger, enqueue, stateManager, Stream`` work inside any handler:
each looks up the context of the handler being run (a context variable, so
concurrent handlers and worker threads each see their own). As in Motia's SDK the
calls are synchronous and return plain values; ``sync_calls`` says how each thread
gets its answer. They are thin: each is one call of ``ctx.state`` or a stream of
``ctx.streams``, so whatever those do (checks, hooks, tracing) applies.

Motia's own README and examples also write ``await todo_stream.get(...)``; a call
whose result its caller awaits returns the async call instead, which never blocks.
"""

from __future__ import annotations

import builtins
import dis
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from motia._runtime.context import FlowContext
from motia._runtime.logs import StepLogger
from motia._runtime.state import StateManager
from motia._runtime.streams import Stream
from motia._runtime.sync_calls import call_sync, start_in_place

__all__ = [
    "BoundStream",
    "ModuleLogger",
    "ModuleStateManager",
    "current_context",
    "enqueue",
    "require_context",
]

current_context: ContextVar[FlowContext[Any] | None] = ContextVar("motia_context", default=None)
_FALLBACK = StepLogger()
T = TypeVar("T")
R = TypeVar("R")


_CACHE = dis.opmap.get("CACHE", 0)
_GET_AWAITABLE = dis.opmap["GET_AWAITABLE"]


def _awaited(depth: int) -> bool:
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


def enqueue(event: dict[str, Any]) -> None:
    """Send ``{"topic", "data", "messageGroupId"?}`` on behalf of the running step.

    Checked at once (an undeclared topic raises here); on the app's loop the write
    is finished by the loop right after, and a failure then is logged.
    """
    ctx = require_context("enqueue()")
    work = ctx.enqueue(event)
    if _awaited(1):
        return work  # type: ignore[return-value]
    start_in_place(work, f"enqueue to {event.get('topic')!r}")


def _call(what: str, op: Callable[[StateManager], Awaitable[R]]) -> R:
    ctx = require_context(what)
    if ctx.state is None:
        raise RuntimeError(f"{what}: this context belongs to no app, so it has no state")
    if _awaited(2):
        return op(ctx.state)  # type: ignore[return-value]
    return call_sync(ctx.state, op, ctx.sync_call_timeout)


class ModuleStateManager:
    """``from motia import stateManager``: the running app's state, synchronously."""

    def get(self, scope: str, key: str) -> Any | None:
        return _call("stateManager.get()", lambda s: s.get(scope, key))

    def set(self, scope: str, key: str, value: Any) -> dict[str, Any]:
        """Returns ``{"old_value": ..., "new_value": ...}``, as Motia's engine does."""
        return _call("stateManager.set()", lambda s: s.set(scope, key, value))

    def update(self, scope: str, key: str, ops: builtins.list[dict[str, Any]]) -> dict[str, Any]:
        """Returns ``{"old_value": ..., "new_value": ...}``."""
        return _call("stateManager.update()", lambda s: s.update(scope, key, ops))

    def delete(self, scope: str, key: str) -> dict[str, Any]:
        """Returns ``{"old_value": ...}`` (None when there was nothing)."""
        return _call("stateManager.delete()", lambda s: _old_value(s.delete(scope, key)))

    def list(self, scope: str) -> builtins.list[Any]:
        return _call("stateManager.list()", lambda s: s.list(scope))

    def get_group(self, scope: str) -> builtins.list[Any]:
        return _call("stateManager.get_group()", lambda s: s.list(scope))

    def list_groups(self) -> builtins.list[str]:
        return _call("stateManager.list_groups()", lambda s: s.list_groups())

    def clear(self, scope: str) -> None:
        return _call("stateManager.clear()", lambda s: s.clear(scope))


async def _nothing(work: Awaitable[Any]) -> None:
    await work


async def _old_value(deleting: Awaitable[Any]) -> dict[str, Any]:
    return {"old_value": await deleting}


class BoundStream(Generic[T]):
    """``Stream("todo")``: the running app's stream ``todo``, synchronously.

    A name no stream file declares is created on first use, as on Motia's engine.
    """

    def __init__(self, config: Any) -> None:
        self.stream_name: str = config if isinstance(config, str) else config.name
        self.config = config

    def __repr__(self) -> str:
        return f"Stream({self.stream_name!r})"

    def _stream(self, what: str) -> Stream:
        ctx = require_context(f"Stream({self.stream_name!r}).{what}()")
        named = getattr(ctx.streams, "named", None)
        stream: Stream = named(self.stream_name) if named else ctx.streams[self.stream_name]
        return stream

    def _call(self, what: str, op: Callable[[Stream], Awaitable[R]]) -> R:
        stream = self._stream(what)
        if _awaited(2):
            return op(stream)  # type: ignore[return-value]
        return call_sync(stream, op, require_context(what).sync_call_timeout)

    def get(self, group_id: str, item_id: str) -> T | None:
        return self._call("get", lambda s: s.get(group_id, item_id))

    def set(self, group_id: str, item_id: str, data: Any) -> dict[str, Any]:
        """Returns ``{"old_value": ..., "new_value": ...}``, as Motia's engine does."""
        return self._call("set", lambda s: s.set_values(group_id, item_id, data))

    def update(self, group_id: str, item_id: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """Returns ``{"old_value": ..., "new_value": ...}``."""
        return self._call("update", lambda s: s.update_values(group_id, item_id, ops))

    def delete(self, group_id: str, item_id: str) -> None:
        return self._call("delete", lambda s: _nothing(s.delete(group_id, item_id)))

    def send(self, channel: dict[str, Any], event: dict[str, Any]) -> None:
        stream = self._stream("send")
        work = stream.send(channel, event)
        if _awaited(1):
            return work  # type: ignore[return-value]
        start_in_place(work, f"send on stream {self.stream_name!r}")

    def get_group(self, group_id: str) -> list[T]:
        return self._call("get_group", lambda s: s.get_group(group_id))

    def list(self, group_id: str) -> builtins.list[T]:
        return self._call("list", lambda s: s.get_group(group_id))

    def list_groups(self) -> builtins.list[str]:
        return self._call("list_groups", lambda s: s.list_groups())
