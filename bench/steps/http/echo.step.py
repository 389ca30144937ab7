"""POST /echo: the body is validated against a pydantic model and sent back."""

from typing import Any

from bench.apps.payloads import Item
from motia import FlowContext, MotiaHttpArgs, http

config = {
    "name": "BenchEcho",
    "flows": ["bench"],
    "triggers": [http("POST", "/echo", body_schema=Item)],
}


async def handler(args: MotiaHttpArgs[Item], ctx: FlowContext[Any]) -> dict[str, Any]:
    return {"status": 200, "body": args.request.body}
