"""Motia's ``motia.state``: the synchronous ``StateManager``/``stateManager``.

Each call is a trigger request to the engine client (``state::get`` with
``{"scope", "key"}``...), as in Motia's SDK; this process's client runs it on the app
running the current handler. ``await stateManager.get(...)`` works too.
"""

from __future__ import annotations

import builtins
from typing import Any

from motia._runtime.current import awaited
from motia._runtime.engine_calls import call_engine
from motia.iii import get_instance

__all__ = ["StateManager", "stateManager"]


class StateManager:
    """The running app's state, by scope (a group) and key."""

    def get(self, scope: str, key: str) -> Any | None:
        return self._call("state::get", {"scope": scope, "key": key})

    def set(self, scope: str, key: str, value: Any) -> Any:
        """Returns ``{"old_value": ..., "new_value": ...}``, as Motia's engine does."""
        return self._call("state::set", {"scope": scope, "key": key, "value": value})

    def update(self, scope: str, key: str, ops: builtins.list[dict[str, Any]]) -> Any:
        """Returns ``{"old_value": ..., "new_value": ...}``."""
        return self._call("state::update", {"scope": scope, "key": key, "ops": ops})

    def delete(self, scope: str, key: str) -> Any:
        """Returns ``{"old_value": ...}`` (None when there was nothing)."""
        return self._call("state::delete", {"scope": scope, "key": key})

    def list(self, scope: str) -> builtins.list[Any]:
        return self._call("state::list", {"scope": scope})  # type: ignore[no-any-return]

    def get_group(self, scope: str) -> builtins.list[Any]:
        return self._call("state::list", {"scope": scope})  # type: ignore[no-any-return]

    def list_groups(self) -> builtins.list[str]:
        return self._call("state::list_groups", {})  # type: ignore[no-any-return]

    def clear(self, scope: str) -> None:
        return self._call("state::clear", {"scope": scope})  # type: ignore[no-any-return]

    def _call(self, function_id: str, payload: dict[str, Any]) -> Any:
        return call_engine(get_instance(), function_id, payload, awaited=awaited(2))


stateManager = StateManager()
