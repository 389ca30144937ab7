"""GET /wait[?ready=1]: an event stream that waits on its own queue; one frame per item."""

import asyncio
from typing import Any

from bench.apps.payloads import ITEM_DATA, READY_FRAME, WAITING
from motia import FlowContext, MotiaHttpArgs, http

config = {"name": "BenchWait", "flows": ["bench"], "triggers": [http("GET", "/wait")]}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> None:
    response = args.response
    await response.headers({"content-type": "text/event-stream"})
    if args.request.query_params.get("ready") == "1":
        response.stream.write(READY_FRAME)
    waiting: asyncio.Queue[bytes] = asyncio.Queue()
    WAITING.add(waiting)
    try:
        while True:
            await waiting.get()
            await response.send(event="item", data=ITEM_DATA)
    finally:
        WAITING.discard(waiting)
