"""POST /broadcast?n=K: one ``ctx.streams.bench.set`` in group ``g``."""

from typing import Any

from motia import FlowContext, MotiaHttpArgs, http

config = {"name": "BenchFanout", "flows": ["bench"], "triggers": [http("POST", "/broadcast")]}

PAD = "x" * 40


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    n = int(args.request.query_params.get("n", 0))
    await ctx.streams.bench.set("g", "tick", {"id": "tick", "n": n, "pad": PAD})
    return {"status": 200, "body": {"n": n}}
