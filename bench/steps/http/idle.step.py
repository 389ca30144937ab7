"""GET /idle: one ``ready`` frame, then heartbeats until the client leaves."""

from typing import Any

from bench.apps.payloads import READY_FRAME
from bench.apps.probe import handler_finished
from motia import FlowContext, MotiaHttpArgs, http

config = {"name": "BenchIdle", "flows": ["bench"], "triggers": [http("GET", "/idle")]}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> None:
    response = args.response
    await response.status(200)
    await response.headers({"content-type": "text/event-stream"})
    response.stream.write(READY_FRAME)
    try:
        await response.wait_closed()
    finally:
        handler_finished()
