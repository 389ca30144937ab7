"""Stream subscriptions as Server-Sent Events: ``GET /streams/<name>/<group>[/<id>]``.

The body is a ``sync`` event, then one event per change (``event:`` the change
type, ``id:`` its timestamp, ``data:`` the WebSocket message). A reconnect with
``Last-Event-ID`` replays what it missed from the topic's replay buffer, or
gets ``event: reset`` and a fresh ``sync`` when that id is too old or unknown.
Idle streams get ``: ping`` comments; a client that stops reading has its
response ended once its buffer is full.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from motia._realtime.auth import StreamAuthRequest, authenticate
from motia._realtime.hooks import StreamSubscription, call_on_join, call_on_leave
from motia._realtime.host import StreamHost
from motia._realtime.hub import Hub, Member, Message
from motia._realtime.outgoing import DISCONNECTED, Outgoing
from motia.sse import PING

__all__ = ["EventStreamSink", "StreamEvents"]

log = logging.getLogger("motia.streams")

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_END_TIMEOUT = 1.0


class EventStreamSink(Outgoing):
    """One SSE response's outgoing frames; ``push`` never blocks.

    Frames queued together go out joined in one body chunk. ``heartbeat`` sends a
    ``: ping`` when nothing else went out since the previous beat.
    """

    __slots__ = ("_beat", "_sent_at_beat")

    describes = "a stream event response"

    def __init__(self, max_buffer: int, hub: Hub, stop: Callable[[], None], send: Send) -> None:
        super().__init__(max_buffer, hub, stop, send)
        self._beat: asyncio.TimerHandle | None = None
        self._sent_at_beat = 0

    def push(self, message: Message) -> None:
        self._put(message.frame())

    def reset(self, member: Member) -> None:
        topic = member.topic
        self._put(reset_frame(topic.stream_name, topic.group_id, member.item_id))

    def push_frame(self, frame: bytes) -> None:
        self._put(frame)

    def shutdown(self) -> None:
        self._end()

    def heartbeat(self, interval: float) -> None:
        """Ping every ``interval`` seconds of silence, until ``stop_heartbeat``."""
        if interval > 0:
            loop = asyncio.get_running_loop()
            self._beat = loop.call_later(interval, self._on_beat, interval)

    def stop_heartbeat(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None

    def _on_beat(self, interval: float) -> None:
        if self.sent == self._sent_at_beat and not self._queued:
            self._put(PING)
        self._sent_at_beat = self.sent
        self.heartbeat(interval)

    def _next_message(self) -> dict[str, Any]:
        chunk = b"".join(self._queue)
        self._queue.clear()
        self._queued = 0
        return {"type": "http.response.body", "body": chunk, "more_body": True}


class StreamEvents:
    """ASGI app answering one SSE subscription request."""

    def __init__(self, runtime: StreamHost) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        hub: Hub = self.runtime.hub
        params = scope["path_params"]
        subscription = StreamSubscription(
            params["stream_name"], params["group_id"], params.get("item_id"), uuid.uuid4().hex
        )
        refusal, auth = await self._admit(request, hub, subscription)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await _EventStream(self.runtime, hub, subscription, auth, request, send).run(send, receive)

    async def _admit(
        self, request: Request, hub: Hub, subscription: StreamSubscription
    ) -> tuple[JSONResponse | None, Any]:
        if hub.closing:
            return _error(503, "SERVER_CLOSING", "The server is shutting down"), None
        allowed, auth = await authenticate(
            self.runtime.stream_auth, StreamAuthRequest.from_connection(request)
        )
        if not allowed:
            return _error(401, "UNAUTHORIZED", "Unauthorized"), None
        config = hub.config(subscription.stream_name)
        if config is None:
            message = f"Stream {subscription.stream_name} not found"
            return _error(404, "STREAM_NOT_FOUND", message), None
        if not await call_on_join(self.runtime, config, subscription, auth):
            return _error(403, "STREAM_ACCESS_DENIED", "Access denied"), None
        return None, auth


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


class _EventStream:
    def __init__(
        self,
        runtime: StreamHost,
        hub: Hub,
        subscription: StreamSubscription,
        auth: Any,
        request: Request,
        send: Send,
    ) -> None:
        self.runtime = runtime
        self.hub = hub
        self.subscription = subscription
        self.auth = auth
        self.last_event_id = _last_event_id(request)
        self.scope = anyio.CancelScope()
        self.sink = EventStreamSink(
            runtime.settings.max_stream_buffer, hub, self.scope.cancel, send
        )
        self.disconnected = False

    async def run(self, send: Send, receive: Receive) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        self.hub.sinks.add(self.sink)
        member: Member | None = None
        try:
            with self.scope:
                member = await self._subscribe()
                self.sink.heartbeat(self.runtime.settings.heartbeat_interval)
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(self._watch_disconnect, receive)
                    await self.sink.write()
        except DISCONNECTED:
            self.disconnected = True
        finally:
            self.sink.stop_heartbeat()
            self.sink.shutdown()  # nothing may follow the end of the body
            self.hub.sinks.discard(self.sink)
            with anyio.CancelScope(shield=True):
                await self._finish(member, send)

    async def _subscribe(self) -> Member:
        sub = self.subscription
        name, group, item = sub.stream_name, sub.group_id, sub.item_id
        if self.last_event_id is not None:
            member = self.hub.resume(self.sink, name, group, item, self.last_event_id)
            if member is not None:
                return member
            self.sink.push_frame(reset_frame(name, group, item))
        return await self.hub.join(self.sink, name, group, item)

    async def _watch_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self.scope.cancel()

    async def _finish(self, member: Member | None, send: Send) -> None:
        if member is not None:
            self.hub.leave(member)
        config = self.hub.config(self.subscription.stream_name)
        if config is not None:
            with anyio.move_on_after(self.runtime.settings.graceful_timeout):
                await call_on_leave(self.runtime, config, self.subscription, self.auth)
        if not self.disconnected:
            with anyio.move_on_after(_END_TIMEOUT):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("lastEventId")
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return -1  # unknown: answered with a reset and a fresh sync


def reset_frame(stream_name: str, group_id: str, item_id: str | None) -> bytes:
    body: dict[str, Any] = {"streamName": stream_name, "groupId": group_id}
    if item_id is not None:
        body["id"] = item_id
    body["event"] = {"type": "reset"}
    return f"event: reset\ndata: {json.dumps(body, separators=(',', ':'))}\n\n".encode()
