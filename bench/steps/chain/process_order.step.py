"""Each created order bumps the running total in state and is pushed to the ``orders`` stream."""

from typing import Any

from motia import FlowContext, QueueConfig, queue

config = {
    "name": "ChainProcessOrder",
    "flows": ["chain"],
    "triggers": [queue("order.created", config=QueueConfig(concurrency=100))],
}


async def handler(order: dict[str, Any], ctx: FlowContext[Any]) -> None:
    increment = [{"type": "increment", "path": "total", "by": order["qty"]}]
    change = await ctx.state.update("orders", "count", increment)
    total = change["new_value"]["total"]
    await ctx.streams.orders.set("all", order["id"], {**order, "total": total})
