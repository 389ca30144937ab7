"""Stream subscriptions as Server-Sent Events: ``GET /streams/<name>/<group>[/<id>]``.

The body is a ``sync`` event, then one event per change (``event:`` the change
type, ``id:`` its event id, ``data:`` the WebSocket message). A reconnect with
``Last-Event-ID``, to this process or to another one on the same Redis,
replays what it missed from the topic's replay buffer, or gets ``event: reset``
and a fresh ``sync`` when that cannot be exact (see ``Hub.resume``).
The response itself (pings, the bounded sender, disconnects) is an ``EventStream``.
A request from a web page whose ``Origin`` is not admitted (see ``origins``) gets a
403, and one naming a stream, group or item longer than ``max_stream_name`` a 400,
before any hook runs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from motia._core.asgi import Receive, Scope, Send
from motia._core.json import dumps
from motia._realtime.access import (
    StreamAuthRequest,
    StreamSubscription,
    authenticate,
    call_on_join,
    call_on_leave,
)
from motia._realtime.host import StreamHost
from motia._realtime.origins import OriginPolicy
from motia._realtime.protocol import valid_name
from motia._runtime.hub import Hub, Member, Message
from motia._sending.event_stream import EventSender, EventStream
from motia._sending.sender import SendPolicy
from motia.exceptions import StoreUnavailable
from motia.sse import encode_event

__all__ = ["StreamEvents", "SubscriptionSender", "reset_frame", "sse_frame"]

log = logging.getLogger("motia.streams")


def sse_frame(message: Message) -> bytes:
    """The SSE frame of a stream message: ``event`` its kind, ``id`` its event id."""
    return encode_event(message.text, event=message.kind, id=message.event_id)


def reset_frame(stream_name: str, group_id: str, item_id: str | None) -> bytes:
    """Tells a resuming client to drop what it has: a fresh ``sync`` follows."""
    body: dict[str, Any] = {"streamName": stream_name, "groupId": group_id}
    if item_id is not None:
        body["id"] = item_id
    body["event"] = {"type": "reset"}
    return encode_event(dumps(body), event="reset")


class SubscriptionSender(EventSender):
    """The hub's sink for one SSE subscription: each message as its SSE frame.

    A broadcast reaches many subscriptions in one loop turn, often several messages
    each: every subscription's frames of the turn go out together, in one write.
    """

    __slots__ = ()

    describes = "a stream event response"
    transport = "sse"
    sends_at_once = False

    def push(self, message: Message) -> None:
        self.put(message.encoded(sse_frame))

    def reset(self, member: Member) -> None:
        topic = member.topic
        self.put(reset_frame(topic.stream_name, topic.group_id, member.item_id))


class StreamEvents:
    """ASGI app answering one SSE subscription request."""

    def __init__(self, runtime: StreamHost) -> None:
        self.runtime = runtime
        self.policy = SendPolicy.from_settings(runtime.settings, runtime.hub.stats)
        self.origins = OriginPolicy(runtime.settings.stream_origins)

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
        session = _Subscription(self, hub, subscription, auth, _last_event_id(request))
        await session.run(scope, receive, send)

    async def _admit(
        self, request: Request, hub: Hub, subscription: StreamSubscription
    ) -> tuple[JSONResponse | None, Any]:
        if hub.closing:
            return _error(503, "SERVER_CLOSING", "The server is shutting down"), None
        origin = request.headers.get("origin")
        if not self.origins.admits(origin, request.headers.get("host")):
            hub.stats.refused_origins += 1
            self.origins.refuse(str(origin), "event subscription")
            return _error(403, "ORIGIN_NOT_ALLOWED", "Origin not allowed"), None
        limit = self.runtime.settings.max_stream_name
        names = (subscription.stream_name, subscription.group_id, subscription.item_id)
        if not all(valid_name(name, limit) for name in names if name is not None):
            message = f"stream, group and item names have at most {limit} characters"
            hub.stats.invalid_messages += 1
            log.warning("stream event subscription refused (400): %s", message)
            return _error(400, "INVALID_SUBSCRIPTION", message), None
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


class _Subscription:
    """One admitted SSE subscription, from its first sync to ``on_leave``."""

    def __init__(
        self,
        endpoint: StreamEvents,
        hub: Hub,
        subscription: StreamSubscription,
        auth: Any,
        last_event_id: str | None,
    ) -> None:
        self.runtime = endpoint.runtime
        self.policy = endpoint.policy
        self.hub = hub
        self.subscription = subscription
        self.auth = auth
        self.last_event_id = last_event_id
        self.member: Member | None = None

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Subscribe first (the sync waits in the sender), so that a store out of reach
        gets a 503 rather than an empty event stream; then stream."""
        stream = EventStream(self.hub, send, receive)
        sender = SubscriptionSender(self.policy, stream.stop, send)
        sender.hold()
        heartbeat = self.runtime.settings.heartbeat_interval
        streaming = False
        try:
            try:
                await self._subscribe(sender)
            except StoreUnavailable as exc:
                await self._unavailable(exc)(scope, receive, send)
                return
            streaming = True
            await stream.run(sender, heartbeat, _released(sender))
        finally:
            with anyio.CancelScope(shield=True):
                await self._leave()
                if streaming:
                    await stream.finish()

    def _unavailable(self, exc: StoreUnavailable) -> JSONResponse:
        sub = self.subscription
        log.warning("stream subscription to %s/%s refused: %s", sub.stream_name, sub.group_id, exc)
        message = "The stream store is unavailable; try again later"
        return _error(503, "STREAM_UNAVAILABLE", message)

    async def _subscribe(self, sender: SubscriptionSender) -> None:
        sub = self.subscription
        name, group, item = sub.stream_name, sub.group_id, sub.item_id
        if self.last_event_id is not None:
            self.member = await self.hub.resume(sender, name, group, item, self.last_event_id)
            if self.member is not None:
                return
            sender.put(reset_frame(name, group, item))
        self.member = await self.hub.join(sender, name, group, item)

    async def _leave(self) -> None:
        if self.member is not None:
            self.hub.leave(self.member)
        config = self.hub.config(self.subscription.stream_name)
        if config is not None:
            with anyio.move_on_after(self.runtime.settings.graceful_timeout):
                await call_on_leave(self.runtime, config, self.subscription, self.auth)


def _released(sender: SubscriptionSender) -> Callable[[], Awaitable[None]]:
    """Once the response has started: send what the subscription queued meanwhile."""

    async def release() -> None:
        sender.release()

    return release


def _last_event_id(request: Request) -> str | None:
    return request.headers.get("last-event-id") or request.query_params.get("lastEventId")
