"""GET /hello: a JSON step."""

from typing import Any

from bench.apps.payloads import HELLO
from motia import FlowContext, MotiaHttpArgs, http

config = {"name": "BenchHello", "flows": ["bench"], "triggers": [http("GET", "/hello")]}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    return {"status": 200, "body": HELLO}
