"""The floor: a bare ASGI app, what uvicorn itself can do with the same routes and bytes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import ValidationError

from bench.apps import payloads as p
from bench.apps.probe import Probe, handler_finished

JSON_HEADERS = [(b"content-type", b"application/json"), p.TRACE_HEADER]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    p.TRACE_HEADER,
]
SUBSCRIBERS: set[Any] = set()


async def _json(send: Any, status: int, body: bytes) -> None:
    headers = [*JSON_HEADERS, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read(receive: Any) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def hello(scope: Any, receive: Any, send: Any) -> None:
    await _json(send, 200, p.HELLO_BYTES)


async def echo(scope: Any, receive: Any, send: Any) -> None:
    try:
        item = p.Item.model_validate_json(await _read(receive))
    except ValidationError as exc:
        await _json(send, 400, exc.json().encode())
        return
    await _json(send, 200, item.model_dump_json().encode())


async def sse(scope: Any, receive: Any, send: Any) -> None:
    count = int(scope["query_string"].decode().partition("=")[2] or 1000)
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    body = {"type": "http.response.body", "body": p.ITEM_FRAME, "more_body": True}
    for _ in range(count):
        await send(body)
    await send({"type": "http.response.body", "body": p.DONE_FRAME})


async def idle(scope: Any, receive: Any, send: Any) -> None:
    """Ready frame, then a ping per heartbeat until the client leaves."""
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    await send({"type": "http.response.body", "body": p.READY_FRAME, "more_body": True})
    beat = _Heartbeat(send)
    SUBSCRIBERS.add(send)
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    finally:
        SUBSCRIBERS.discard(send)
        beat.cancel()
        handler_finished()


class _Heartbeat:
    """A timer, not a task: one ``: ping`` per ``HEARTBEAT`` seconds."""

    def __init__(self, send: Any) -> None:
        self.send = send
        self.loop = asyncio.get_running_loop()
        self.handle = self.loop.call_later(p.HEARTBEAT, self.fire)

    def fire(self) -> None:
        body = {"type": "http.response.body", "body": p.PING_FRAME, "more_body": True}
        self.loop.create_task(self.send(body))
        self.handle = self.loop.call_later(p.HEARTBEAT, self.fire)

    def cancel(self) -> None:
        self.handle.cancel()


async def wait(scope: Any, receive: Any, send: Any) -> None:
    """The head at once, ``ready`` if asked, then one frame per item put in its queue (the
    floor: no heartbeat, and a send to a client that left does nothing)."""
    waiting: asyncio.Queue[bytes] = asyncio.Queue()
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    if scope["query_string"] == b"ready=1":
        await send({"type": "http.response.body", "body": p.READY_FRAME, "more_body": True})
    p.WAITING.add(waiting)
    try:
        while True:
            frame = await waiting.get()
            await send({"type": "http.response.body", "body": frame, "more_body": True})
    finally:
        p.WAITING.discard(waiting)


async def wake(scope: Any, receive: Any, send: Any) -> None:
    await _json(send, 200, b"%d" % p.wake_all())


async def broadcast(scope: Any, receive: Any, send: Any) -> None:
    """One frame to every idle stream."""
    body = {"type": "http.response.body", "body": p.ITEM_FRAME, "more_body": True}
    for subscriber in list(SUBSCRIBERS):
        with contextlib.suppress(OSError, RuntimeError):
            await subscriber(body)
    await _json(send, 200, b"%d" % len(SUBSCRIBERS))


ROUTES = {
    ("GET", "/hello"): hello,
    ("POST", "/echo"): echo,
    ("GET", "/sse"): sse,
    ("GET", "/idle"): idle,
    ("POST", "/broadcast"): broadcast,
    ("GET", "/wait"): wait,
    ("POST", "/wake"): wake,
}


async def raw(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    route = ROUTES.get((scope["method"], scope["path"]))
    if route is None:
        await _json(send, 404, b'{"error":"not found"}')
        return
    await route(scope, receive, send)


app = Probe(raw)
