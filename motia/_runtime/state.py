"""``ctx.state``: JSON values by group and key, kept in the app's store."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

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

    def __init__(self, store: Store, on_change: ChangeHook | None = None) -> None:
        self.store = store
        self._on_change = on_change or _ignore

    def rebound(self, store: Store, wrap: Callable[[ChangeHook], ChangeHook]) -> StateManager:
        """This manager on ``store`` (another loop's handle on the same data), hooks wrapped."""
        return StateManager(store, wrap(self._on_change))

    async def get(self, group: str, key: str) -> JSON | None:
        return await self.store.get(STATE_NAMESPACE, group, key)

    async def set(self, group: str, key: str, value: Any) -> dict[str, JSON]:
        """Store ``value``; returns ``{"old_value": ..., "new_value": ...}``."""
        change = await self.store.set(STATE_NAMESPACE, group, key, value)
        self._on_change(change)
        return _values(change.old_value, change.new_value)

    async def update(
        self, group: str, key: str, ops: builtins.list[dict[str, Any]]
    ) -> dict[str, JSON]:
        """Apply update ops atomically; returns ``{"old_value": ..., "new_value": ...}``."""
        change = await self.store.update(STATE_NAMESPACE, group, key, ops)
        self._on_change(change)
        return _values(change.old_value, change.new_value)

    async def delete(self, group: str, key: str) -> JSON | None:
        """Remove the value; returns it, or None when there was none."""
        change = await self.store.delete(STATE_NAMESPACE, group, key)
        if change is not None:
            self._on_change(change)
        return None if change is None else ensure_json(change.old_value)

    async def list(self, group: str) -> builtins.list[JSON]:
        return [value for _, value in await self.store.list(STATE_NAMESPACE, group)]

    async def get_group(self, group: str) -> builtins.list[JSON]:
        return await self.list(group)

    async def list_groups(self) -> builtins.list[str]:
        return await self.store.list_groups(STATE_NAMESPACE)

    async def clear(self, group: str) -> None:
        for change in await self.store.clear(STATE_NAMESPACE, group):
            self._on_change(change)


def _values(old_value: JSON | None, new_value: JSON | None) -> dict[str, JSON]:
    # Copies: the originals are shared with change-feed subscribers.
    return {"old_value": ensure_json(old_value), "new_value": ensure_json(new_value)}
