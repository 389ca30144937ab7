"""POST /wake: one item to every stream waiting on ``GET /wait``."""

from typing import Any

from bench.apps.payloads import wake_all
from motia import FlowContext, MotiaHttpArgs, http

config = {"name": "BenchWake", "flows": ["bench"], "triggers": [http("POST", "/wake")]}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    return {"status": 200, "body": wake_all()}
