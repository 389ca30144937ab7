"""POST /stream: reads a form-encoded body and streams items back as Server-Sent Events."""

import asyncio
import json
import random
import time
from typing import Any
from urllib.parse import parse_qsl

from motia import FlowContext, MotiaHttpArgs, http

config = {
    "name": "SSE Example",
    "description": "Stream data using Server-Sent Events",
    "flows": ["streaming"],
    "triggers": [http("POST", "/stream")],
    "enqueues": [],
}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> None:
    ctx.logger.info("SSE stream requested")
    response = args.response
    await response.status(200)
    await response.headers({"content-type": "text/event-stream"})

    raw = b""
    async for chunk in args.request.request_body.stream:
        raw += chunk
    fields = dict(parse_qsl(raw.decode(), keep_blank_values=True))

    count = random.randint(5, 10)
    for index in range(count):
        item = {"id": f"item-{index + 1}", "data": fields, "timestamp": int(time.time() * 1000)}
        response.writer.stream.write(f"event: item\ndata: {json.dumps(item)}\n\n".encode())
        await asyncio.sleep(0.1)

    response.writer.stream.write(f"event: done\ndata: {json.dumps({'total': count})}\n\n")
    response.close()
