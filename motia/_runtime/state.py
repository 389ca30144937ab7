"""``ctx.state``: JSON values by group and key, kept in the app's store."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from motia._core.spans import NO_SPAN, Tracing
from motia._runtime.unawaited import Call
from motia.backends.base import Change, Store
from motia.backends.ops import JSON, ensure_json

__all__ = ["STATE_NAMESPACE", "ChangeHook", "StateManager"]

STATE_NAMESPACE = "state"

ChangeHook = Callable[[Change], None]
"""Called in the writer's context after each write (state and stream triggers hook here)."""


def _ignore(change: Change) -> None:
    pass


class StateManager:
    """Get, set, update and delete JSON values by ``(group, key)``.

    Values are converted with ``ensure_json`` (pydantic models are dumped by alias);
    anything JSON cannot hold is refused with ``UnstorableValue`` and nothing is written.
    """

    def __init__(
        self, store: Store, on_change: ChangeHook | None = None, tracing: Tracing | None = None
    ) -> None:
        self.store = store
        self._on_change = on_change or _ignore
        self._tracing = tracing

    def rebound(self, store: Store, wrap: Callable[[ChangeHook], ChangeHook]) -> StateManager:
        """This manager on ``store`` (another loop's handle on the same data), hooks wrapped."""
        return StateManager(store, wrap(self._on_change), self._tracing)

    async def get(self, group: str, key: str) -> JSON | None:
        with self._span("get", group, key):
            return await self.store.get(STATE_NAMESPACE, group, key)

    def set(self, group: str, key: str, value: Any) -> Call[dict[str, JSON]]:
        """Store ``value``; returns ``{"old_value": ..., "new_value": ...}``."""
        return Call(self._set(group, key, value), "ctx.state.set")

    async def _set(self, group: str, key: str, value: Any) -> dict[str, JSON]:
        with self._span("set", group, key):
            change = await self.store.set(STATE_NAMESPACE, group, key, value)
            self._on_change(change)
        return _values(change.old_value, change.new_value)

    def update(
        self, group: str, key: str, ops: builtins.list[dict[str, Any]]
    ) -> Call[dict[str, JSON]]:
        """Apply update ops atomically; returns ``{"old_value": ..., "new_value": ...}``."""
        return Call(self._update(group, key, ops), "ctx.state.update")

    async def _update(
        self, group: str, key: str, ops: builtins.list[dict[str, Any]]
    ) -> dict[str, JSON]:
        with self._span("update", group, key):
            change = await self.store.update(STATE_NAMESPACE, group, key, ops)
            self._on_change(change)
        return _values(change.old_value, change.new_value)

    def delete(self, group: str, key: str) -> Call[JSON | None]:
        """Remove the value; returns it, or None when there was none."""
        return Call(self._delete(group, key), "ctx.state.delete")

    async def _delete(self, group: str, key: str) -> JSON | None:
        with self._span("delete", group, key):
            change = await self.store.delete(STATE_NAMESPACE, group, key)
            if change is not None:
                self._on_change(change)
        return None if change is None else ensure_json(change.old_value)

    async def list(self, group: str) -> builtins.list[JSON]:
        with self._span("list", group):
            return [value for _, value in await self.store.list(STATE_NAMESPACE, group)]

    async def get_group(self, group: str) -> builtins.list[JSON]:
        return await self.list(group)

    async def list_groups(self) -> builtins.list[str]:
        with self._span("list_groups"):
            return await self.store.list_groups(STATE_NAMESPACE)

    def clear(self, group: str) -> Call[None]:
        return Call(self._clear(group), "ctx.state.clear")

    async def _clear(self, group: str) -> None:
        with self._span("clear", group):
            for change in await self.store.clear(STATE_NAMESPACE, group):
                self._on_change(change)

    def _span(
        self, operation: str, group: str | None = None, key: str | None = None
    ) -> AbstractContextManager[Any]:
        """``state::<operation>`` when tracing; changes fire their triggers inside it."""
        if self._tracing is None:
            return NO_SPAN
        attributes = {"motia.state.scope": group, "motia.state.key": key}
        return self._tracing.operation(f"state::{operation}", attributes)


def _values(old_value: JSON | None, new_value: JSON | None) -> dict[str, JSON]:
    # Copies: the originals are shared with change-feed subscribers.
    return {"old_value": ensure_json(old_value), "new_value": ensure_json(new_value)}
