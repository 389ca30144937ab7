"""GET /hello/:name: the smallest JSON step."""

from typing import Any

from motia import FlowContext, MotiaHttpArgs, http

config = {
    "name": "Hello",
    "description": "Greet someone by name",
    "flows": ["hello"],
    "triggers": [http("GET", "/hello/:name")],
}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    name = args.request.path_params["name"]
    ctx.logger.info("greeting", {"name": name})
    return {"status": 200, "body": {"message": f"Hello, {name}!", "traceId": ctx.trace_id}}
