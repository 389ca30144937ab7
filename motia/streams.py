"""``motia.streams``: ``StreamConfig`` (a ``*.stream.py`` file) and Motia's ``Stream(name)``.

``Stream("todo")`` is synchronous, as in Motia's SDK: each call is a trigger request
to the engine client (``stream::get`` with ``{"stream_name", "group_id", "item_id"}``...),
which this process runs on the app running the current handler. A name no stream
file declares is created on first use, as on Motia's engine. ``await`` works too.
"""

from __future__ import annotations

import builtins
from typing import Any, Generic, TypeVar

from motia._project.stream_config import StreamConfig
from motia._runtime.current import awaited, require_context
from motia._runtime.engine_calls import call_engine
from motia._runtime.sync_calls import start_in_place
from motia.iii import get_instance

__all__ = ["Stream", "StreamConfig"]

T = TypeVar("T")


class Stream(Generic[T]):
    """``Stream("todo")`` or ``Stream(config)``: one stream's items by group and id."""

    def __init__(self, config: StreamConfig | str) -> None:
        self.stream_name: str = config if isinstance(config, str) else config.name
        self.config = config

    def __repr__(self) -> str:
        return f"Stream({self.stream_name!r})"

    def get(self, group_id: str, item_id: str) -> T | None:
        return self._call("stream::get", self._item(group_id, item_id))  # type: ignore[no-any-return]

    def set(self, group_id: str, item_id: str, data: Any) -> Any:
        """Returns ``{"old_value": ..., "new_value": ...}``, as Motia's engine does."""
        return self._call("stream::set", {**self._item(group_id, item_id), "data": data})

    def update(self, group_id: str, item_id: str, ops: builtins.list[dict[str, Any]]) -> Any:
        """Returns ``{"old_value": ..., "new_value": ...}``."""
        return self._call("stream::update", {**self._item(group_id, item_id), "ops": ops})

    def delete(self, group_id: str, item_id: str) -> None:
        return self._call("stream::delete", self._item(group_id, item_id))  # type: ignore[no-any-return]

    def get_group(self, group_id: str) -> builtins.list[T]:
        return self._call("stream::list", self._group(group_id))  # type: ignore[no-any-return]

    def list(self, group_id: str) -> builtins.list[T]:
        return self._call("stream::list", self._group(group_id))  # type: ignore[no-any-return]

    def list_groups(self) -> builtins.list[str]:
        return self._call("stream::list_groups", {"stream_name": self.stream_name})  # type: ignore[no-any-return]

    def send(self, channel: dict[str, Any], event: dict[str, Any]) -> None:
        """An ephemeral event to the channel's subscribers (not stored)."""
        ctx = require_context(f"Stream({self.stream_name!r}).send()")
        work = ctx.streams.named(self.stream_name).send(channel, event)
        if awaited(1):
            return work  # type: ignore[return-value]
        start_in_place(work, f"send on stream {self.stream_name!r}")

    def _call(self, function_id: str, payload: dict[str, Any]) -> Any:
        return call_engine(get_instance(), function_id, payload, awaited=awaited(2))

    def _group(self, group_id: str) -> dict[str, Any]:
        return {"stream_name": self.stream_name, "group_id": group_id}

    def _item(self, group_id: str, item_id: str) -> dict[str, Any]:
        return {"stream_name": self.stream_name, "group_id": group_id, "item_id": item_id}
