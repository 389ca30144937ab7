"""State and stream contents as the console shows them, and their live changes.

Snapshots read the store directly; ``change_frame`` turns each message of the
store's change feed into one SSE frame for the pages watching. Subscriber
counts come from the runtime's hub.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from motia._core.json import dumps_lenient
from motia._runtime.hub import Hub
from motia._runtime.state import STATE_NAMESPACE
from motia._runtime.streams import stream_namespace
from motia.backends.base import Change, Ephemeral, FeedMessage, Store
from motia.sse import encode_event

__all__ = ["change_frame", "state_snapshot", "stream_snapshot", "subscriber_counts"]


async def state_snapshot(store: Store) -> list[dict[str, Any]]:
    """Every state group with its ``(key, value)`` items."""
    return [
        {"group": group, "items": await _items(store, STATE_NAMESPACE, group)}
        for group in await store.list_groups(STATE_NAMESPACE)
    ]


async def stream_snapshot(
    store: Store, names: list[str], hub: Hub, hidden: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Every stream with its groups, their items and how many subscribers watch each group;
    a ``hidden`` stream shows only its subscriber count."""
    counts = subscriber_counts(hub)
    streams: list[dict[str, Any]] = []
    for name in names:
        if name in hidden:
            total = _total(counts, name)
            streams.append({"name": name, "protected": True, "groups": [], "subscribers": total})
            continue
        namespace = stream_namespace(name)
        groups = [
            {
                "group": group,
                "items": await _items(store, namespace, group),
                "subscribers": counts.get(f"{name}/{group}", 0),
            }
            for group in await store.list_groups(namespace)
        ]
        streams.append({"name": name, "groups": groups, "subscribers": _total(counts, name)})
    return streams


async def _items(store: Store, namespace: str, group: str) -> list[dict[str, Any]]:
    return [{"id": key, "value": value} for key, value in await store.list(namespace, group)]


def subscriber_counts(hub: Hub, hidden: Collection[str] = ()) -> dict[str, int]:
    """``{"stream/group": members}`` for every watched group of a stream not ``hidden``."""
    return {
        f"{topic.stream_name}/{topic.group_id}": len(topic.members)
        for topic in list(hub.topics.values())
        if topic.members and topic.stream_name not in hidden
    }


def _total(counts: dict[str, int], name: str) -> int:
    return sum(n for key, n in counts.items() if key.split("/", 1)[0] == name)


def change_frame(message: FeedMessage) -> bytes:
    """One SSE frame: a ``change`` (where, what kind, the value as subscribers get it), or a
    ``resync`` when the store says changes may have been missed (pages then re-read)."""
    if isinstance(message, Change):
        deleted = message.kind == "delete"
        body = _where(message) | {
            "kind": message.kind,
            "value": message.old_value if deleted else message.new_value,
            "version": message.version,
        }
    elif isinstance(message, Ephemeral):
        event = {"type": message.event_type, "data": message.data}
        body = _where(message) | {"kind": "event", "event": event}
    else:
        return encode_event("{}", event="resync")
    return encode_event(dumps_lenient(body), event="change")


def _where(message: Change | Ephemeral) -> dict[str, Any]:
    return {"namespace": message.namespace, "group": message.group_id, "id": message.item_id}
