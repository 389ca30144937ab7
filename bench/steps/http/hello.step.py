"""GET /hello: a JSON step."""

from typing import Any

from motia import FlowContext, MotiaHttpArgs, http

from bench.apps.payloads import HELLO

config = {"name": "BenchHello", "flows": ["bench"], "triggers": [http("GET", "/hello")]}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    return {"status": 200, "body": HELLO}
