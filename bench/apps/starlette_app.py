"""Plain Starlette: the routes as a Starlette user writes them (manual pydantic validation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.apps import payloads as p
from bench.apps.probe import Probe, handler_finished

TRACE = {"x-trace-id": p.TRACE_HEADER[1].decode()}
SSE = {**TRACE, "cache-control": "no-cache"}


async def hello(request: Request) -> Response:
    return JSONResponse(p.HELLO, headers=TRACE)


async def echo(request: Request) -> Response:
    try:
        item = p.Item.model_validate_json(await request.body())
    except ValidationError as exc:
        return Response(exc.json(), status_code=400, media_type="application/json")
    return Response(item.model_dump_json(), media_type="application/json", headers=TRACE)


async def sse(request: Request) -> Response:
    count = int(request.query_params.get("n", 1000))
    return StreamingResponse(_items(count), media_type="text/event-stream", headers=SSE)


async def _items(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield p.ITEM_FRAME
    yield p.DONE_FRAME


async def idle(request: Request) -> Response:
    return StreamingResponse(_idle(), media_type="text/event-stream", headers=SSE)


async def _idle() -> AsyncIterator[bytes]:
    try:
        yield p.READY_FRAME
        while True:
            await asyncio.sleep(p.HEARTBEAT)
            yield p.PING_FRAME
    finally:
        handler_finished()


async def wait(request: Request) -> Response:
    ready = request.query_params.get("ready") == "1"
    return StreamingResponse(_wait(ready), media_type="text/event-stream", headers=SSE)


async def _wait(ready: bool) -> AsyncIterator[bytes]:
    waiting: asyncio.Queue[bytes] = asyncio.Queue()
    p.WAITING.add(waiting)
    try:
        if ready:
            yield p.READY_FRAME
        while True:
            try:
                yield await asyncio.wait_for(waiting.get(), p.HEARTBEAT)
            except TimeoutError:
                yield p.PING_FRAME
    finally:
        p.WAITING.discard(waiting)


async def wake(request: Request) -> Response:
    return JSONResponse(p.wake_all(), headers=TRACE)


routes = [
    Route("/hello", hello),
    Route("/echo", echo, methods=["POST"]),
    Route("/sse", sse),
    Route("/idle", idle),
    Route("/wait", wait),
    Route("/wake", wake, methods=["POST"]),
]
app = Probe(Starlette(routes=routes))
