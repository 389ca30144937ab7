"""Motia's ``motia.stream_client``: a Python client of the stream WebSocket protocol.

``StreamClient(url)`` keeps one WebSocket (``pip install websockets``) and any number of
subscriptions; ``subscribe_item`` / ``subscribe_group`` return a subscription whose state
follows the server's ``sync``/``create``/``update``/``delete`` messages, in timestamp
order, and whose listeners receive the group's ephemeral events. A ``token`` goes to the
server as the official browser client sends it: subprotocols ``Authorization, <token>``.
A dropped connection is reopened every ``reconnect_delay`` seconds and every live
subscription joins again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

__all__ = [
    "JoinMessage",
    "StreamClient",
    "StreamGroupSubscription",
    "StreamItemSubscription",
    "StreamSubscription",
]

log = logging.getLogger("motia.stream_client")

Listener = Callable[[Any], None]


@dataclass(frozen=True)
class JoinMessage:
    """What a subscription joins: a group of a stream, or one item of it (``id``)."""

    stream_name: str
    group_id: str
    subscription_id: str
    id: str | None = None

    def as_data(self) -> dict[str, Any]:
        data = {"streamName": self.stream_name, "groupId": self.group_id}
        if self.id is not None:
            data["id"] = self.id
        return {**data, "subscriptionId": self.subscription_id}


class StreamSubscription:
    """A subscription's state, its change, event and close listeners."""

    def __init__(self, sub: JoinMessage, state: Any) -> None:
        self.sub = sub
        self._state = state
        self._change_listeners: list[Listener] = []
        self._event_listeners: dict[str, list[Listener]] = {}
        self._close_listeners: list[Callable[[], None]] = []

    def listener(self, message: dict[str, Any]) -> None:
        """Apply one server message; item and group subscriptions each define it."""
        raise NotImplementedError(f"{type(self).__name__} does not read stream messages")

    def add_change_listener(self, listener: Listener) -> None:
        self._change_listeners.append(listener)

    def remove_change_listener(self, listener: Listener) -> None:
        self._change_listeners = [known for known in self._change_listeners if known != listener]

    def on_event(self, event_type: str, listener: Listener) -> None:
        """Call ``listener(data)`` for each ephemeral event of that type."""
        self._event_listeners.setdefault(event_type, []).append(listener)

    def off_event(self, event_type: str, listener: Listener) -> None:
        listeners = self._event_listeners.get(event_type, [])
        self._event_listeners[event_type] = [known for known in listeners if known != listener]

    def on_close(self, listener: Callable[[], None]) -> None:
        self._close_listeners.append(listener)

    def close(self) -> None:
        """Leave: the close listeners run once."""
        listeners, self._close_listeners = self._close_listeners, []
        for listener in listeners:
            listener()

    def get_state(self) -> Any:
        return self._state

    def _set_state(self, state: Any) -> None:
        self._state = state
        for listener in list(self._change_listeners):
            listener(state)

    def _on_event_received(self, event: dict[str, Any]) -> None:
        for listener in list(self._event_listeners.get(event.get("type") or "", [])):
            listener(event.get("data"))


class StreamItemSubscription(StreamSubscription):
    """One item: its latest value, ``None`` once deleted. Older messages are ignored."""

    def __init__(self, sub: JoinMessage) -> None:
        super().__init__(sub, None)
        self._last_timestamp = 0

    def listener(self, message: dict[str, Any]) -> None:
        timestamp = message.get("timestamp", 0)
        if timestamp <= self._last_timestamp:
            return
        self._last_timestamp = timestamp
        event = message.get("event") or {}
        kind = event.get("type")
        if kind in ("sync", "create", "update"):
            self._set_state(event.get("data"))
        elif kind == "delete":
            self._set_state(None)
        elif kind == "event":
            self._on_event_received(event.get("event") or {})


class StreamGroupSubscription(StreamSubscription):
    """A group: its items as a list, sorted by ``sort_key`` when given.

    A sync older than the last change is ignored, and so is a change of an item older than
    that item's last change.
    """

    def __init__(self, sub: JoinMessage, sort_key: str | None = None) -> None:
        super().__init__(sub, [])
        self._sort_key = sort_key
        self._last_timestamp = 0
        self._item_timestamps: dict[Any, int] = {}

    def _set_state(self, state: Any) -> None:
        if self._sort_key is not None:
            key = self._sort_key
            state = sorted(state, key=lambda item: str(item.get(key, "")))
        super()._set_state(state)

    def listener(self, message: dict[str, Any]) -> None:
        timestamp = message.get("timestamp", 0)
        event = message.get("event") or {}
        kind = event.get("type")
        if kind == "sync":
            self._sync(timestamp, event.get("data") or [])
        elif kind == "event":
            self._on_event_received(event.get("event") or {})
        elif kind in ("create", "update", "delete"):
            item = event.get("data")
            if isinstance(item, dict) and self._is_newer(item.get("id"), timestamp, kind):
                self._change(kind, item)

    def _sync(self, timestamp: int, items: list[dict[str, Any]]) -> None:
        if timestamp < self._last_timestamp:
            return
        self._last_timestamp = timestamp
        self._item_timestamps = {}
        self._set_state(list(items))

    def _is_newer(self, item_id: Any, timestamp: int, kind: str) -> bool:
        if kind == "create":
            return True
        last = self._item_timestamps.get(item_id)
        if last is not None and last >= timestamp:
            return False
        self._item_timestamps[item_id] = timestamp
        self._last_timestamp = timestamp
        return True

    def _change(self, kind: str, item: dict[str, Any]) -> None:
        items: list[dict[str, Any]] = self.get_state()
        item_id = item.get("id")
        known = any(existing.get("id") == item_id for existing in items)
        if kind == "create" and not known:
            self._set_state([*items, item])
        elif kind == "update":
            self._set_state([item if each.get("id") == item_id else each for each in items])
        elif kind == "delete":
            self._set_state([each for each in items if each.get("id") != item_id])


class StreamClient:
    """One WebSocket to a stream server (``ws://host:port``) shared by subscriptions."""

    def __init__(self, url: str, reconnect_delay: float = 2.0, *, token: str | None = None) -> None:
        self.url = url
        self._token = token
        self._ws: Any = None
        self._receive_task: Any = None
        self._listeners: dict[str, set[StreamSubscription]] = {}
        self._reconnect_delay = reconnect_delay
        self._connecting = asyncio.Lock()
        self._scheduled: set[asyncio.Task[Any]] = set()

    # -- subscriptions (call them from async code) --

    def subscribe_item(
        self, stream_name: str, group_id: str, item_id: str
    ) -> StreamItemSubscription:
        subscription = StreamItemSubscription(
            JoinMessage(stream_name, group_id, _new_subscription_id(), item_id)
        )
        self._subscribe(subscription)
        return subscription

    def subscribe_group(
        self, stream_name: str, group_id: str, sort_key: str | None = None
    ) -> StreamGroupSubscription:
        subscription = StreamGroupSubscription(
            JoinMessage(stream_name, group_id, _new_subscription_id()), sort_key
        )
        self._subscribe(subscription)
        return subscription

    def close(self) -> None:
        """Close every subscription, then the connection."""
        self._get_running_loop("StreamClient.close")
        for subscriptions in list(self._listeners.values()):
            for subscription in list(subscriptions):
                subscription.close()
        self._listeners = {}
        self._schedule(self.disconnect(), "StreamClient.disconnect")

    def _subscribe(self, subscription: StreamSubscription) -> None:
        self._get_running_loop("StreamClient.subscribe_*")
        room = self._room_name({**subscription.sub.as_data(), "id": subscription.sub.id})
        self._listeners.setdefault(room, set()).add(subscription)
        if self._ws is None:
            self._schedule(self.connect(), "StreamClient.connect")

        def leave() -> None:
            members = self._listeners.get(room, set())
            members.discard(subscription)
            if not members:
                self._listeners.pop(room, None)
            self._schedule(self._leave(subscription), "StreamClient subscription close")

        subscription.on_close(leave)
        self._schedule(self._join(subscription), "StreamClient.join")

    # -- the connection --

    async def connect(self) -> None:
        """Open the WebSocket (once) and join every subscription on it."""
        async with self._connecting:
            if self._ws is not None:
                return
            try:
                import websockets
            except ImportError as exc:
                raise ImportError(
                    "the websockets package is required for StreamClient: pip install websockets"
                ) from exc
            self._ws = await websockets.connect(self.url, **self._auth())
            log.info("connected to the stream server at %s", self.url)
            self._receive_task = asyncio.create_task(self._receive_loop())
            await self._rejoin_all()

    def _auth(self) -> dict[str, Any]:
        """The official browser client's way to send a token: as the second subprotocol."""
        return {} if self._token is None else {"subprotocols": ["Authorization", self._token]}

    async def disconnect(self) -> None:
        task = self._receive_task
        if task is not None and task is not asyncio.current_task():
            # Kept while it reconnects from inside, so that a disconnect() then stops it.
            task.cancel()
            self._receive_task = None
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
            log.info("disconnected from the stream server at %s", self.url)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._connected().send(json.dumps(message))

    async def _receive(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await self._connected().recv())
        return message

    def _connected(self) -> Any:
        if self._ws is None:
            raise RuntimeError("Not connected: await client.connect() first")
        return self._ws

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self._receive()
            except Exception as exc:
                log.debug("stream connection lost (%s); reconnecting", exc)
                await self._reconnect()
                return
            try:
                self._dispatch(message)
            except Exception:
                log.exception("a stream subscription listener failed")

    async def _reconnect(self) -> None:
        await self.disconnect()
        while True:
            await asyncio.sleep(self._reconnect_delay)
            try:
                await self.connect()
                return
            except Exception as exc:
                log.debug(
                    "stream reconnect failed (%s); next try in %ss", exc, self._reconnect_delay
                )

    def _dispatch(self, message: dict[str, Any]) -> None:
        """Hand a message to its item's or group's subscriptions; an item's change (not its
        sync) reaches its group's subscriptions too."""
        rooms = [self._room_name(message)]
        event = message.get("event") or {}
        if message.get("id") and event.get("type") != "sync":
            rooms.append(self._room_name({**message, "id": None}))
        for room in rooms:
            for subscription in list(self._listeners.get(room, set())):
                subscription.listener(message)

    async def _rejoin_all(self) -> None:
        for subscriptions in list(self._listeners.values()):
            for subscription in list(subscriptions):
                await self._join(subscription)

    async def _join(self, subscription: StreamSubscription) -> None:
        if self._ws is not None:
            await self._send({"type": "join", "data": subscription.sub.as_data()})

    async def _leave(self, subscription: StreamSubscription) -> None:
        if self._ws is not None:
            await self._send({"type": "leave", "data": subscription.sub.as_data()})

    # -- helpers --

    def _get_running_loop(self, action: str) -> asyncio.AbstractEventLoop:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{action} requires a running event loop: call it from async code"
            ) from None

    def _schedule(self, coroutine: Coroutine[Any, Any, Any], action: str) -> None:
        task = self._get_running_loop(action).create_task(coroutine, name=action)
        self._scheduled.add(task)  # a task nobody holds may be collected before it ends
        task.add_done_callback(self._scheduled.discard)

    @staticmethod
    def _room_name(message: dict[str, Any]) -> str:
        room = f"{message.get('streamName')}:group:{message.get('groupId')}"
        return f"{room}:item:{message['id']}" if message.get("id") else room


def _new_subscription_id() -> str:
    return str(uuid.uuid4())
