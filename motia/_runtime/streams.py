"""Streams: schema-checked items by group and id, pushed to subscribers as they change.

``Stream`` is the handle behind ``ctx.streams.<name>`` and ``Streams`` is that container.
Items live in the app's store under the namespace ``"stream:<name>"``; the
network side (WebSocket and SSE subscribers) reads the store's change feed.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, cast

from motia._core.spans import NO_SPAN, Tracing
from motia._project.stream_config import StreamConfig
from motia._runtime.state import ChangeHook
from motia._runtime.unawaited import Call
from motia.backends.base import Change, Ephemeral, Store
from motia.backends.ops import JSON, ensure_json

__all__ = ["Stream", "Streams", "stream_namespace"]

log = logging.getLogger("motia.streams")


def stream_namespace(name: str) -> str:
    return f"stream:{name}"


class Stream:
    """``ctx.streams.<name>``: read and write one stream's items, send ephemeral events."""

    def __init__(
        self,
        config: StreamConfig,
        store: Store,
        on_change: ChangeHook | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._on_change = on_change or (lambda change: None)
        self._tracing = tracing
        self.namespace = stream_namespace(config.name)

    @property
    def name(self) -> str:
        return self.config.name

    def __repr__(self) -> str:
        return f"Stream({self.name!r})"

    async def get(self, group_id: str, item_id: str) -> JSON | None:
        with self._span("get", group_id, item_id):
            return await self.store.get(self.namespace, group_id, item_id)

    def set(self, group_id: str, item_id: str, data: Any) -> Call[JSON]:
        """Validate ``data`` (with ``id`` set to ``item_id``), store it and return the item."""
        return Call(self._set(group_id, item_id, data), self._call_name("set"))

    async def _set(self, group_id: str, item_id: str, data: Any) -> JSON:
        return (await self.set_values(group_id, item_id, data))["new_value"]

    async def set_values(self, group_id: str, item_id: str, data: Any) -> dict[str, JSON]:
        """``set``, returning ``{"old_value": ..., "new_value": ...}`` as Motia's engine does."""
        with self._span("set", group_id, item_id):
            item = self._checked_item(item_id, data)
            change = await self.store.set(self.namespace, group_id, item_id, item)
            self._on_change(change)
        return _values(change)

    def update(self, group_id: str, item_id: str, ops: builtins.list[dict[str, Any]]) -> Call[JSON]:
        """Apply update ops atomically; a result the schema refuses is not written."""
        return Call(self._update(group_id, item_id, ops), self._call_name("update"))

    async def _update(
        self, group_id: str, item_id: str, ops: builtins.list[dict[str, Any]]
    ) -> JSON:
        return (await self.update_values(group_id, item_id, ops))["new_value"]

    async def update_values(
        self, group_id: str, item_id: str, ops: builtins.list[dict[str, Any]]
    ) -> dict[str, JSON]:
        """``update``, returning ``{"old_value": ..., "new_value": ...}``."""
        with self._span("update", group_id, item_id):
            change = await self.store.update(
                self.namespace,
                group_id,
                item_id,
                ops,
                check=lambda value: self._checked_item(item_id, value),
            )
            self._on_change(change)
        return _values(change)

    def rebound(self, store: Store, wrap: Callable[[ChangeHook], ChangeHook]) -> Stream:
        """This stream on ``store`` (another loop's handle on the same data), hooks wrapped."""
        return Stream(self.config, store, wrap(self._on_change), self._tracing)

    def delete(self, group_id: str, item_id: str) -> Call[JSON | None]:
        """Remove the item; returns it, or None when there was none."""
        return Call(self._delete(group_id, item_id), self._call_name("delete"))

    async def _delete(self, group_id: str, item_id: str) -> JSON | None:
        with self._span("delete", group_id, item_id):
            change = await self.store.delete(self.namespace, group_id, item_id)
            if change is not None:
                self._on_change(change)
        return None if change is None else ensure_json(change.old_value)

    async def get_group(self, group_id: str) -> builtins.list[JSON]:
        with self._span("list", group_id):
            return [item for _, item in await self.store.list(self.namespace, group_id)]

    async def list(self, group_id: str) -> builtins.list[JSON]:
        return await self.get_group(group_id)

    async def list_groups(self) -> builtins.list[str]:
        with self._span("list_groups"):
            return await self.store.list_groups(self.namespace)

    def send(self, channel: Mapping[str, Any], event: Mapping[str, Any]) -> Call[None]:
        """Send ``{"type": name, "data": any}`` to ``{"groupId": g, "id": optional}``, unstored."""
        return Call(self._send(channel, event), self._call_name("send"))

    async def _send(self, channel: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        group_id, item_id = _channel(channel)
        event_type, data = _event(event)
        with self._span("send", group_id, item_id):
            ephemeral = Ephemeral(self.namespace, group_id, item_id, event_type, data)
            await self.store.publish(ephemeral)

    def _span(
        self, operation: str, group_id: str | None = None, item_id: str | None = None
    ) -> AbstractContextManager[Any]:
        """``stream::<operation>`` when tracing; changes fire their triggers inside it."""
        if self._tracing is None:
            return NO_SPAN
        attributes = {
            "motia.stream.name": self.name,
            "motia.stream.group_id": group_id,
            "motia.stream.item_id": item_id,
        }
        return self._tracing.operation(f"stream::{operation}", attributes)

    def _call_name(self, method: str) -> str:
        return f"ctx.streams.{self.name}.{method}"

    def _checked_item(self, item_id: str, data: Any) -> dict[str, JSON]:
        item = ensure_json(data)
        if not isinstance(item, dict):
            raise TypeError(
                f"stream {self.name!r}: an item must be an object, got {type(item).__name__}"
            )
        item["id"] = item_id
        schema = self.config.compiled_schema
        if schema is None:
            return item
        validated = schema.validate(item)
        if validated is item:  # a JSON Schema checks the item as it is: nothing new to copy
            return cast(dict[str, JSON], validated)
        checked = ensure_json(validated)
        if not isinstance(checked, dict):
            raise TypeError(f"stream {self.name!r}: the schema must describe an object")
        return {**checked, "id": item_id}


def _values(change: Change) -> dict[str, JSON]:
    return {"old_value": ensure_json(change.old_value), "new_value": ensure_json(change.new_value)}


def _channel(channel: Mapping[str, Any]) -> tuple[str, str | None]:
    group_id = (
        channel.get("groupId", channel.get("group_id")) if isinstance(channel, Mapping) else None
    )
    if not isinstance(group_id, str):
        raise ValueError(
            f"a stream channel must be {{'groupId': str, 'id': str | None}}, got {channel!r}"
        )
    item_id = channel.get("id")
    if item_id is not None and not isinstance(item_id, str):
        raise ValueError(f"a stream channel's 'id' must be a str or None, got {item_id!r}")
    return group_id, item_id


def _event(event: Mapping[str, Any]) -> tuple[str, JSON]:
    if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
        raise ValueError(f"a stream event must be {{'type': str, 'data': any}}, got {event!r}")
    return event["type"], ensure_json(event.get("data"))


class Streams:
    """The streams an app knows by name: ``streams.todo`` or ``streams["todo"]``."""

    def __init__(
        self,
        streams: Mapping[str, Stream] | None = None,
        *,
        store: Store | None = None,
        on_change: ChangeHook | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._streams: dict[str, Stream] = dict(streams or {})
        self._store = store
        self._on_change = on_change
        self._tracing = tracing

    @classmethod
    def from_configs(
        cls,
        configs: Iterable[StreamConfig],
        store: Store,
        on_change: ChangeHook | None = None,
        tracing: Tracing | None = None,
    ) -> Streams:
        streams = {config.name: Stream(config, store, on_change, tracing) for config in configs}
        return cls(streams, store=store, on_change=on_change, tracing=tracing)

    def named(self, name: str) -> Stream:
        """The stream ``name``, created on first use when no stream file declares it.

        As on Motia's engine, ``Stream("todo")`` needs no ``todo.stream.py``; such a
        stream has no schema and no ``on_join``/``on_leave`` hooks.
        """
        stream = self._streams.get(name)
        if stream is not None:
            return stream
        if self._store is None:
            raise KeyError(self._unknown(name))
        log.info(
            "stream %r has no stream file: created without a schema or auth hooks "
            "(add a %s.stream.py declaring StreamConfig(name=%r, schema=...) for both)",
            name,
            name,
            name,
        )
        stream = Stream(StreamConfig(name), self._store, self._on_change, self._tracing)
        self._streams[name] = stream
        return stream

    def __getitem__(self, name: str) -> Stream:
        try:
            return self._streams[name]
        except KeyError:
            raise KeyError(self._unknown(name)) from None

    def __getattr__(self, name: str) -> Stream:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._streams[name]
        except KeyError:
            raise AttributeError(self._unknown(name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._streams

    def __iter__(self) -> Iterator[str]:
        return iter(self._streams)

    def __len__(self) -> int:
        return len(self._streams)

    def __repr__(self) -> str:
        return f"Streams({sorted(self._streams)!r})"

    def _unknown(self, name: str) -> str:
        known = ", ".join(sorted(self._streams)) or "none"
        return f"unknown stream {name!r}; known streams: {known}"
