"""The stream WebSocket endpoint (PROTOCOL.md), served at ``/`` and ``/streams``.

Connection order: accept (echoing ``Authorization`` when subprotocols are
offered: the official Node client crashes without an echo), run the app's
``stream_auth`` hook, then either close with 4401 (refused, before any data)
or serve frames. A handshake from a web page whose ``Origin`` is not admitted
(see ``origins``) is refused with HTTP 403 before any of that. Each socket has one
reader (the endpoint) and a bounded sender (``SocketSink``, see ``_sending``): a
client that reads too slowly is closed with 1008 and the reason once its buffer is
full (if it still takes the close frame within a second; else the connection is
reset), and one that stops reading is reset after the send timeout.

What a client can make a socket hold is bounded by the app's ``Settings``: a
message over ``max_stream_message`` bytes closes the socket with 1009 (the server
refuses it first when it was configured with that limit, see ``motia.server``; the
socket checks again for servers that were not), a join beyond ``max_subscriptions``
is refused with a ``TOO_MANY_SUBSCRIPTIONS`` error event, and names over
``max_stream_name`` characters make the frame invalid.

Every message is stamped from the socket's own clock so timestamps strictly
increase; a shared message is re-stamped only when its topic's timestamp would not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
from starlette.websockets import WebSocket, WebSocketDisconnect

from motia._core.asgi import Receive, Scope, Send
from motia._core.json import dumps
from motia._realtime.access import (
    AUTH_SUBPROTOCOL,
    StreamAuthRequest,
    StreamSubscription,
    authenticate,
    call_on_join,
    call_on_leave,
)
from motia._realtime.frame_writer import frame_transport, text_frame, write_frame
from motia._realtime.host import StreamHost
from motia._realtime.origins import OriginPolicy
from motia._realtime.protocol import error_event, parse_frame
from motia._runtime.hub import Hub, Member, Message, now_ms
from motia._sending.sender import DISCONNECTED, Sender, SendPolicy
from motia.exceptions import FrameError, StoreUnavailable

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_SLOW",
    "CLOSE_TOO_BIG",
    "CLOSE_UNAUTHORIZED",
    "SocketSink",
    "StreamSocket",
]

log = logging.getLogger("motia.streams")

CLOSE_UNAUTHORIZED = 4401
CLOSE_SLOW = 1008
CLOSE_POLICY = 1008
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
_CLOSE_TIMEOUT = 2.0


def ws_frame(message: Message) -> bytes:
    """The WebSocket text frame of a stream message (``Message.encoded`` keeps it)."""
    return text_frame(message.text)


class SocketSink(Sender[str]):
    """One socket's outgoing messages and clock; ``push`` never blocks.

    A message for an idle socket is written at once, as a ready-made frame, when
    the server gave a ``transport`` that takes them (see ``frame_writer``);
    otherwise it is queued (``Sender``).
    """

    __slots__ = ("_last", "_transport", "clock", "close_code")

    _queue: deque[str]  # the base's default queue: texts go out one by one off the front

    describes = "a stream WebSocket"
    transport = "websocket"

    def __init__(
        self,
        policy: SendPolicy,
        stop: Callable[[], None],
        send: Send,
        transport: asyncio.WriteTransport | None = None,
    ) -> None:
        super().__init__(policy, stop, send)
        self.clock = 0
        self.close_code: int | None = None
        self._transport = transport
        self._last: Message | None = None

    @property
    def writes_frames(self) -> bool:
        """Whether messages can skip the ASGI ``send`` (see ``frame_writer``)."""
        return self._transport is not None

    def push(self, message: Message) -> None:
        if message is self._last:
            return  # the socket already has it through another of its subscriptions
        self._last = message
        if message.timestamp > self.clock:
            self.clock = message.timestamp
            self._out(message.text, message)
        else:
            self.clock += 1
            self._out(message.stamped(self.clock), None)

    def push_own(self, payload: dict[str, Any]) -> None:
        self.clock = max(now_ms(), self.clock + 1)
        self._out(dumps({"timestamp": self.clock, **payload}), None)

    def reset(self, member: Member) -> None:
        """Nothing to say first: the official clients take the fresh sync as it comes."""

    def shutdown(self) -> None:
        self.close(CLOSE_GOING_AWAY)

    def close(self, code: int) -> None:
        """Send nothing more; the session closes the socket with ``code``."""
        if self.close_code is None:
            self.close_code = code
        self.end()

    def _end_slow(self) -> None:
        self.close(CLOSE_SLOW)

    def _out(self, text: str, shared: Message | None) -> None:
        """Write ``text`` at once when nothing waits before it and the transport takes
        it (``shared``: the message whose frame it is, built once); otherwise queue it."""
        transport = self._transport
        if transport is not None and not (self.queued or self._writing or self.closed):
            frame = shared.encoded(ws_frame) if shared is not None else text_frame(text)
            if write_frame(transport, frame):
                return
        self.put(text)

    def _next_message(self) -> dict[str, Any]:
        text = self._queue.popleft()
        self.queued -= len(text)
        return {"type": "websocket.send", "text": text}


class StreamSocket:
    """ASGI app for one stream WebSocket connection."""

    def __init__(self, runtime: StreamHost) -> None:
        self.runtime = runtime
        self.policy = SendPolicy.from_settings(runtime.settings, runtime.hub.stats)
        self.origins = OriginPolicy(runtime.settings.stream_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        origin = websocket.headers.get("origin")
        if not self.origins.admits(origin, websocket.headers.get("host")):
            self.runtime.hub.stats.refused_origins += 1
            self.origins.refuse(str(origin), "WebSocket")
            await websocket.close(CLOSE_POLICY)  # before the accept: an HTTP 403
            return
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
        await _Session(self, hub, websocket, auth, send).run()


class _Session:
    def __init__(
        self, endpoint: StreamSocket, hub: Hub, websocket: WebSocket, auth: Any, send: Send
    ) -> None:
        self.runtime = endpoint.runtime
        self.hub = hub
        self.websocket = websocket
        self.auth = auth
        self.scope = anyio.CancelScope()
        # The raw ASGI send: the hot path skips the WebSocket wrapper.
        self.sink = SocketSink(endpoint.policy, self.scope.cancel, send, frame_transport(send))
        self.members: dict[str, tuple[StreamSubscription, Member]] = {}
        self.disconnected = False
        self.settings = endpoint.runtime.settings
        self.stats = hub.stats
        self.told_full = False
        self.told_invalid = False

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
            await self.sink.write()
        except DISCONNECTED:
            self.disconnected = True
            self.scope.cancel()

    async def _reader(self) -> None:
        limit = self.settings.max_stream_message
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.disconnected = True
                if message.get("code") == CLOSE_TOO_BIG:  # the server refused a message
                    self._oversized(limit)
                return
            text = message.get("text")
            if _over(limit, text, message.get("bytes")):
                self._oversized(limit)
                self.sink.close(CLOSE_TOO_BIG)
                return
            await self._handle(text)
            # A message may be handled without suspending (a refused join, a memory store):
            # a client sending many must not keep the other connections waiting.
            await anyio.lowlevel.checkpoint()

    def _oversized(self, limit: int) -> None:
        self.stats.oversized_messages += 1
        log.warning("closing a stream WebSocket (1009): a message over %d bytes", limit)

    async def _handle(self, text: str | None) -> None:
        try:
            frame = parse_frame(text, self.settings.max_stream_name)
        except FrameError as exc:
            self.stats.invalid_messages += 1
            if not self.told_invalid:  # one line per socket, however many frames follow
                self.told_invalid = True
                log.warning("a stream WebSocket frame answered with INVALID_MESSAGE: %s", exc)
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
        if len(self.members) >= self.settings.max_subscriptions:
            self._refuse_join(subscription)
            return
        config = self.hub.config(name)
        if config is None:
            error = error_event("STREAM_NOT_FOUND", f"Stream {name} not found", name, group, item)
            self.sink.push_own(error)
            return
        if not await call_on_join(self.runtime, config, subscription, self.auth):
            error = error_event("STREAM_ACCESS_DENIED", "Access denied", name, group, item)
            self.sink.push_own(error)
            return
        try:
            member = await self.hub.join(self.sink, name, group, item)
        except StoreUnavailable as exc:
            log.warning("stream subscription to %s/%s refused: %s", name, group, exc)
            message = "The stream store is unavailable; join again later"
            self.sink.push_own(error_event("STREAM_UNAVAILABLE", message, name, group, item))
            await call_on_leave(self.runtime, config, subscription, self.auth)
            return
        self.members[subscription.subscription_id] = (subscription, member)

    def _refuse_join(self, subscription: StreamSubscription) -> None:
        limit = self.settings.max_subscriptions
        self.stats.refused_subscriptions += 1
        if not self.told_full:  # one line per socket, however many joins follow
            self.told_full = True
            log.warning("a stream WebSocket reached %d subscriptions; refusing more joins", limit)
        message = f"this socket holds {limit} subscriptions, the most allowed; leave one first"
        sub = subscription
        error = error_event(
            "TOO_MANY_SUBSCRIPTIONS", message, sub.stream_name, sub.group_id, sub.item_id
        )
        self.sink.push_own(error)

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
                await anyio.lowlevel.checkpoint()  # a thousand on_leave hooks take turns
        for _, member in self.members.values():
            self.hub.leave(member)

    async def _close(self) -> None:
        sink = self.sink
        if self.disconnected or sink.broken:
            return
        if sink.farewell is not None:
            close = {"type": "websocket.close", "code": CLOSE_SLOW, "reason": sink.farewell}
            await sink.say_farewell(close)
            return
        sink.close(1000)  # keeps an earlier code; nothing may follow the close frame
        with anyio.move_on_after(_CLOSE_TIMEOUT):
            with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
                await self.websocket.close(self.sink.close_code or 1000)


def _over(limit: int, text: str | None, data: bytes | None) -> bool:
    """Whether a received message has more than ``limit`` bytes (UTF-8, for a text)."""
    if text is None:
        return len(data or b"") > limit
    if len(text) > limit:  # a character is at least one byte...
        return True
    if len(text) * 4 <= limit:  # ...and at most four
        return False
    return len(text.encode(errors="surrogatepass")) > limit
