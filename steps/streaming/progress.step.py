"""POST /progress: reports the progress of a long task as `event: progress` frames."""

import asyncio
from typing import Any

from motia import FlowContext, MotiaHttpArgs, http

config = {
    "name": "Progress Example",
    "description": "Report the progress of a long-running task over SSE",
    "flows": ["streaming"],
    "triggers": [http("POST", "/progress")],
}

STEPS = ["validating", "loading", "processing", "saving", "finishing"]


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> None:
    response = args.response
    await response.status(200)
    await response.headers({"content-type": "text/event-stream"})
    total = len(STEPS)
    for current, name in enumerate(STEPS, start=1):
        await asyncio.sleep(0.1)
        progress = round(current * 100 / total)
        data = {"step": name, "progress": progress, "current": current, "total": total}
        await response.send(event="progress", data=data)
    await response.send(event="complete", data={"success": True})
    ctx.logger.info("task complete", {"steps": total})
    response.close()
