"""The stream WebSocket endpoint (PROTOCOL.md), served at ``/`` and ``/streams``.

Connection order: accept (echoing ``Authorization`` when subprotocols are
offered: the official Node client crashes without an echo), run the app's
``stream_auth`` hook, then either close with 4401 (refused, before any data)
or serve frames. Each socket has one reader (the endpoint) and one writer task
draining a bounded queue; a client that stops reading is closed with 1008 once
its queue is full. Every message is stamped from the socket's own clock so
timestamps strictly increase; a shared message is re-stamped only when its
topic's timestamp would not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from motia.stream_auth import AUTH_SUBPROTOCOL, StreamAuthRequest, authenticate
from motia.stream_frames import FrameError, error_event, parse_frame
from motia.stream_hooks import StreamSubscription, call_on_join, call_on_leave
from motia.subscriptions import Hub, Member, Message, now_ms

__all__ = ["CLOSE_GOING_AWAY", "CLOSE_SLOW", "CLOSE_UNAUTHORIZED", "SocketSink", "StreamSocket"]

log = logging.getLogger("motia.streams")

CLOSE_UNAUTHORIZED = 4401
CLOSE_SLOW = 1008
CLOSE_GOING_AWAY = 1001
_CLOSE_TIMEOUT = 2.0


class SocketSink:
    """One socket's outgoing queue and clock; ``push`` never blocks."""

    def __init__(self, max_buffer: int, hub: Hub, stop: Callable[[], None]) -> None:
        self.clock = 0
        self.close_code: int | None = None
        self._queue: deque[str] = deque()
        self._queued = 0
        self._max_buffer = max_buffer
        self._hub = hub
        self._stop = stop
        self._last: Message | None = None
        self._waiter: asyncio.Future[None] | None = None

    def push(self, message: Message) -> None:
        if message is self._last:
            return  # the socket already has it through another of its subscriptions
        self._last = message
        if message.timestamp > self.clock:
            self.clock = message.timestamp
            self._enqueue(message.text)
        else:
            self.clock += 1
            self._enqueue(message.stamped(self.clock))

    def push_own(self, payload: dict[str, Any]) -> None:
        self.clock = max(now_ms(), self.clock + 1)
        self._enqueue(json.dumps({"timestamp": self.clock, **payload}, separators=(",", ":")))

    def reset(self, member: Member) -> None:
        """Nothing to say first: the official clients take the fresh sync as it comes."""

    def shutdown(self) -> None:
        self.close(CLOSE_GOING_AWAY)

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self._queue.clear()
            self._queued = 0
            self._stop()

    def _enqueue(self, text: str) -> None:
        if self.close_code is not None:
            return
        self._queue.append(text)
        self._queued += len(text)
        if self._queued > self._max_buffer:
            self._slow()
        elif self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _slow(self) -> None:
        self._hub.stats.slow_closes += 1
        log.warning(
            "closing a stream WebSocket whose client reads too slowly: %d bytes waiting (limit %d)",
            self._queued,
            self._max_buffer,
        )
        self.close(CLOSE_SLOW)

    async def write(self, send: Send) -> None:
        """The socket's writer: sends queued messages in order until stopped."""
        loop = asyncio.get_running_loop()
        while True:
            while self._queue:
                text = self._queue.popleft()
                self._queued -= len(text)
                await send({"type": "websocket.send", "text": text})
            self._waiter = loop.create_future()
            await self._waiter


class StreamSocket:
    """ASGI app for one stream WebSocket connection."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        offered = list(scope.get("subprotocols") or [])
        echo = AUTH_SUBPROTOCOL if AUTH_SUBPROTOCOL in offered else (offered or [None])[0]
        await websocket.accept(subprotocol=echo)
        hub: Hub = self.runtime.hub
        if hub.closing:
            await websocket.close(1012)
            return
        allowed, auth = await authenticate(
            self.runtime.stream_auth, StreamAuthRequest.from_connection(websocket)
        )
        if not allowed:
            await websocket.close(CLOSE_UNAUTHORIZED)
            return
        await _Session(self.runtime, hub, websocket, auth, send).run()


class _Session:
    def __init__(self, runtime: Any, hub: Hub, websocket: WebSocket, auth: Any, send: Send) -> None:
        self.runtime = runtime
        self.send = send  # the raw ASGI send: the hot path skips the WebSocket wrapper
        self.hub = hub
        self.websocket = websocket
        self.auth = auth
        self.scope = anyio.CancelScope()
        self.sink = SocketSink(runtime.settings.max_stream_buffer, hub, self.scope.cancel)
        self.members: dict[str, tuple[StreamSubscription, Member]] = {}
        self.disconnected = False

    async def run(self) -> None:
        self.hub.sinks.add(self.sink)
        try:
            with self.scope:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._writer)
                    await self._reader()
                    tasks.cancel_scope.cancel()
        finally:
            self.hub.sinks.discard(self.sink)
            with anyio.CancelScope(shield=True):
                await self._leave_all()
                await self._close()

    async def _writer(self) -> None:
        try:
            await self.sink.write(self.send)
        except (WebSocketDisconnect, OSError, RuntimeError):
            self.disconnected = True
            self.scope.cancel()

    async def _reader(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.disconnected = True
                return
            await self._handle(message.get("text"))

    async def _handle(self, text: str | None) -> None:
        try:
            frame = parse_frame(text)
        except FrameError as exc:
            data = exc.data
            self.sink.push_own(
                error_event(
                    "INVALID_MESSAGE",
                    str(exc),
                    data.get("streamName"),
                    data.get("groupId"),
                    data.get("id"),
                )
            )
            return
        if frame.type == "join":
            await self._join(frame.subscription)
        else:
            await self._leave(frame.subscription.subscription_id)

    async def _join(self, subscription: StreamSubscription) -> None:
        await self._leave(subscription.subscription_id)
        name, group, item = subscription.stream_name, subscription.group_id, subscription.item_id
        config = self.hub.config(name)
        if config is None:
            error = error_event("STREAM_NOT_FOUND", f"Stream {name} not found", name, group, item)
            self.sink.push_own(error)
            return
        if not await call_on_join(self.runtime, config, subscription, self.auth):
            error = error_event("STREAM_ACCESS_DENIED", "Access denied", name, group, item)
            self.sink.push_own(error)
            return
        member = await self.hub.join(self.sink, name, group, item)
        self.members[subscription.subscription_id] = (subscription, member)

    async def _leave(self, subscription_id: str) -> None:
        entry = self.members.pop(subscription_id, None)
        if entry is None:
            return
        subscription, member = entry
        self.hub.leave(member)
        config = self.hub.config(subscription.stream_name)
        if config is not None:
            await call_on_leave(self.runtime, config, subscription, self.auth)

    async def _leave_all(self) -> None:
        with anyio.move_on_after(self.runtime.settings.graceful_timeout):
            for subscription_id in list(self.members):
                await self._leave(subscription_id)
        for _, member in self.members.values():
            self.hub.leave(member)

    async def _close(self) -> None:
        if self.disconnected:
            return
        with anyio.move_on_after(_CLOSE_TIMEOUT):
            with contextlib.suppress(OSError, RuntimeError):
                await self.websocket.close(self.sink.close_code or 1000)
