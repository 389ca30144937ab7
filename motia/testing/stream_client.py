"""``StreamClient``: a WebSocket client that speaks the stream protocol (PROTOCOL.md).

Every wait has a deadline (``timeout``, 5 seconds unless told); a missed deadline
fails the test with what the socket received so far. Messages a call does not
ask for stay queued, in order, for ``next_message``.

    async with await StreamClient.connect(server.ws_url) as ws:
        items = await ws.join("todo", "inbox")          # the group's sync data
        message = await ws.next_message(type="create")  # the next create, others kept
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from motia._core.json import dumps
from motia.exceptions import JoinRefused, StreamClosed
from motia.testing.failures import describe, fail

__all__ = ["StreamClient"]

StreamMessage = dict[str, Any]
_Key = tuple[str, str, str | None]


class StreamClient:
    def __init__(self, connection: ClientConnection, *, timeout: float = 5.0) -> None:
        self.connection = connection
        self.timeout = timeout
        self.received: list[StreamMessage] = []
        self._queued: deque[StreamMessage] = deque()
        self._subscriptions: dict[_Key, str] = {}

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> StreamClient:
        """Open a socket; ``token`` is offered as browsers do (``Authorization, <token>``)."""
        protocols = [Subprotocol("Authorization"), Subprotocol(token)] if token else None
        connection = await connect(
            url,
            subprotocols=protocols,
            additional_headers=dict(headers or {}),
            open_timeout=timeout,
            close_timeout=timeout,
        )
        return cls(connection, timeout=timeout)

    async def __aenter__(self) -> StreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.connection.close()

    # -- subscribing ---------------------------------------------------------------------

    async def join(
        self,
        stream: str,
        group: str,
        id: str | None = None,
        *,
        subscription_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Subscribe; returns the ``sync`` data (the item, or the group's items)."""
        key = (stream, group, id)
        subscription_id = subscription_id or self._subscriptions.get(key) or str(uuid.uuid4())
        self._subscriptions[key] = subscription_id
        await self.send({"type": "join", "data": _channel(key, subscription_id)})
        message = await self._wait(lambda m: _answers_join(m, key), timeout, f"sync for {key}")
        event = message["event"]
        if event["type"] == "sync":
            return event.get("data")
        del self._subscriptions[key]
        error = event["event"].get("data") or {}
        raise JoinRefused(str(error.get("code")), str(error.get("message")))

    async def leave(
        self, stream: str, group: str, id: str | None = None, *, subscription_id: str | None = None
    ) -> None:
        key = (stream, group, id)
        subscription_id = subscription_id or self._subscriptions.pop(key, None) or ""
        await self.send({"type": "leave", "data": _channel(key, subscription_id)})

    async def send(self, frame: Mapping[str, Any] | str) -> None:
        """Send a frame as it is (a dict is JSON-encoded)."""
        await self.connection.send(frame if isinstance(frame, str) else dumps(frame))

    # -- receiving -----------------------------------------------------------------------

    async def next_message(
        self, *, type: str | None = None, timeout: float | None = None
    ) -> StreamMessage:
        """The next message, or the next whose event type is ``type`` (others stay queued)."""
        return await self._wait(
            lambda m: type is None or m.get("event", {}).get("type") == type,
            timeout,
            f"{type!r} message" if type else "message",
        )

    async def next_event(self, name: str | None = None, *, timeout: float | None = None) -> Any:
        """The next ephemeral event (``stream.send``) as ``{"type": name, "data": ...}``."""
        message = await self._wait(
            lambda m: _is_ephemeral(m, name),
            timeout,
            f"ephemeral {name!r} event" if name else "ephemeral event",
        )
        return message["event"]["event"]

    async def no_message(self, within: float = 0.2) -> None:
        """Fail if a message arrives (or is queued) within ``within`` seconds."""
        if self._queued:
            fail(f"expected no stream message, but one is queued: {self._queued[0]!r}")
        try:
            message = await self._receive(within)
        except TimeoutError:
            return
        self._queued.append(message)
        fail(f"expected no stream message within {within}s, got {message!r}")

    async def _wait(
        self, wanted: Callable[[StreamMessage], bool], timeout: float | None, what: str
    ) -> StreamMessage:
        for message in list(self._queued):
            if wanted(message):
                self._queued.remove(message)
                return message
        deadline = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while True:
            try:
                message = await self._receive(end - loop.time())
            except TimeoutError:
                fail(f"no {what} within {deadline}s; received {describe(self.received)}")
            if wanted(message):
                return message
            self._queued.append(message)

    async def _receive(self, timeout: float) -> StreamMessage:
        try:
            async with asyncio.timeout(max(timeout, 0)):
                text = await self.connection.recv()
        except ConnectionClosed as exc:
            close = exc.rcvd
            raise StreamClosed(
                close.code if close else None, close.reason if close else ""
            ) from exc
        message: StreamMessage = json.loads(text)
        self.received.append(message)
        return message


def _channel(key: _Key, subscription_id: str) -> dict[str, str]:
    stream, group, item = key
    data = {"streamName": stream, "groupId": group, "subscriptionId": subscription_id}
    if item is not None:
        data["id"] = item
    return data


def _answers_join(message: StreamMessage, key: _Key) -> bool:
    stream, group, item = key
    if message.get("streamName") != stream or message.get("groupId") != group:
        return False
    event = message.get("event", {})
    if event.get("type") == "sync":
        return message.get("id") == item
    return _is_ephemeral(message, "error")


def _is_ephemeral(message: StreamMessage, name: str | None) -> bool:
    event = message.get("event", {})
    inner = event.get("event") if event.get("type") == "event" else None
    return isinstance(inner, dict) and (name is None or inner.get("type") == name)
