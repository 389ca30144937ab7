"""GET /sse?n=N: N ``event: item`` frames as fast as the client takes them, then ``done``."""

from typing import Any

from bench.apps.payloads import DONE_FRAME, ITEM_DATA
from motia import FlowContext, MotiaHttpArgs, http

config = {"name": "BenchSSE", "flows": ["bench"], "triggers": [http("GET", "/sse")]}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> None:
    count = int(args.request.query_params.get("n", 1000))
    response = args.response
    await response.status(200)
    await response.headers({"content-type": "text/event-stream"})
    for _ in range(count):
        await response.send(event="item", data=ITEM_DATA)
    response.stream.write(DONE_FRAME)
    response.close()
