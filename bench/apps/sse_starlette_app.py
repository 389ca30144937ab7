"""sse-starlette: ``EventSourceResponse`` streams on a Starlette app, pings on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.apps import payloads as p
from bench.apps.probe import Probe, handler_finished

TRACE = {"x-trace-id": p.TRACE_HEADER[1].decode()}


async def sse(request: Request) -> Response:
    count = int(request.query_params.get("n", 1000))
    return EventSourceResponse(_items(count), ping=int(p.HEARTBEAT), sep="\n", headers=TRACE)


async def _items(count: int) -> AsyncIterator[dict[str, str]]:
    for _ in range(count):
        yield {"event": "item", "data": p.ITEM_DATA}
    yield {"event": "done", "data": "1"}


async def idle(request: Request) -> Response:
    return EventSourceResponse(_idle(), ping=int(p.HEARTBEAT), sep="\n", headers=TRACE)


async def _idle() -> AsyncIterator[dict[str, str]]:
    try:
        yield {"event": "ready", "data": "1"}
        await asyncio.Event().wait()
    finally:
        handler_finished()


app = Probe(Starlette(routes=[Route("/sse", sse), Route("/idle", idle)]))
