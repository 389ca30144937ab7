"""Module-level twins for Motia 1.0 code, bound to the running handler.

``from motia import logger, enqueue, stateManager, Stream`` work inside any
handler: each looks up the context of the handler being run (a context
variable, so concurrent handlers and worker threads each see their own).
Mutations start at once and return an awaitable: awaiting waits for the
result, and a call nobody awaits still happens.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from motia._runtime.context import FlowContext
from motia._runtime.logs import StepLogger
from motia._runtime.state import StateManager
from motia._runtime.streams import Stream

__all__ = [
    "BoundStream",
    "ModuleLogger",
    "ModuleStateManager",
    "current_context",
    "enqueue",
    "require_context",
]

current_context: ContextVar[FlowContext[Any] | None] = ContextVar("motia_context", default=None)
_pending: set[asyncio.Future[Any]] = set()
"""Enqueues nobody awaits: held here until done, since the loop keeps only weak references."""
_FALLBACK = StepLogger()
T = TypeVar("T")


def require_context(what: str) -> FlowContext[Any]:
    ctx = current_context.get()
    if ctx is None:
        raise RuntimeError(f"{what} can only be used while a step handler is running")
    return ctx


class ModuleLogger:
    """``from motia import logger``: the running step's logger, or a plain one outside."""

    def __getattr__(self, name: str) -> Any:
        ctx = current_context.get()
        return getattr(ctx.logger if ctx is not None else _FALLBACK, name)


def enqueue(event: dict[str, Any]) -> asyncio.Future[Any]:
    """Start enqueueing now; awaiting the result waits for it (an un-awaited call still runs)."""
    return _start(require_context("enqueue()").enqueue(event))


def _start(work: Awaitable[T]) -> asyncio.Future[T]:
    future: asyncio.Future[T] = asyncio.ensure_future(work)
    _pending.add(future)
    future.add_done_callback(_pending.discard)
    return future


class ModuleStateManager:
    """``from motia import stateManager``: the running app's ``ctx.state``."""

    @staticmethod
    def _state() -> StateManager:
        return require_context("stateManager").state

    async def get(self, group_id: str, key: str) -> Any:
        return await self._state().get(group_id, key)

    def set(self, group_id: str, key: str, value: Any) -> asyncio.Future[Any]:
        return _start(self._state().set(group_id, key, value))

    def update(self, group_id: str, key: str, ops: list[dict[str, Any]]) -> asyncio.Future[Any]:
        return _start(self._state().update(group_id, key, ops))

    def delete(self, group_id: str, key: str) -> asyncio.Future[Any]:
        return _start(self._state().delete(group_id, key))

    def clear(self, group_id: str) -> asyncio.Future[Any]:
        return _start(self._state().clear(group_id))

    async def list(self, group_id: str) -> list[Any]:
        items: list[Any] = await self._state().list(group_id)
        return items

    get_group = list

    async def list_groups(self) -> builtins.list[str]:
        groups: builtins.list[str] = await self._state().list_groups()
        return groups


class BoundStream(Generic[T]):
    """``Stream("todo")`` at module level: the running app's ``ctx.streams.todo``."""

    def __init__(self, stream_name: str) -> None:
        self.stream_name = stream_name

    def _stream(self) -> Stream:
        return require_context(f"Stream({self.stream_name!r})").streams[self.stream_name]

    async def get(self, group_id: str, item_id: str) -> T | None:
        item: T | None = await self._stream().get(group_id, item_id)
        return item

    def set(self, group_id: str, item_id: str, data: Any) -> asyncio.Future[Any]:
        return _start(self._stream().set(group_id, item_id, data))

    def update(self, group_id: str, item_id: str, ops: list[dict[str, Any]]) -> asyncio.Future[Any]:
        return _start(self._stream().update(group_id, item_id, ops))

    def delete(self, group_id: str, item_id: str) -> asyncio.Future[Any]:
        return _start(self._stream().delete(group_id, item_id))

    def send(self, channel: dict[str, Any], event: dict[str, Any]) -> asyncio.Future[Any]:
        return _start(self._stream().send(channel, event))

    async def get_group(self, group_id: str) -> list[T]:
        items: list[T] = await self._stream().get_group(group_id)
        return items

    list = get_group

    async def list_groups(self) -> builtins.list[str]:
        groups: builtins.list[str] = await self._stream().list_groups()
        return groups
