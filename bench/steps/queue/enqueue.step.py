"""POST /enqueue?n=N: N messages to topic ``bench.job``, each stamped with its send time."""

import time
from typing import Any

from motia import FlowContext, MotiaHttpArgs, http

config = {
    "name": "BenchEnqueue",
    "flows": ["bench"],
    "triggers": [http("POST", "/enqueue")],
    "enqueues": ["bench.job"],
}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    count = int(args.request.query_params.get("n", 1))
    for _ in range(count):
        await ctx.enqueue({"topic": "bench.job", "data": {"t": time.monotonic()}})
    return {"status": 202, "body": {"enqueued": count}}
