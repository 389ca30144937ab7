"""POST /orders: a validated order goes onto topic ``order.created``; answered 202."""

from typing import Any

from pydantic import BaseModel

from motia import FlowContext, MotiaHttpArgs, http


class Order(BaseModel):
    id: str
    item: str
    qty: int


config = {
    "name": "ChainCreateOrder",
    "flows": ["chain"],
    "triggers": [http("POST", "/orders", body_schema=Order)],
    "enqueues": ["order.created"],
}


async def handler(args: MotiaHttpArgs[Order], ctx: FlowContext[Any]) -> dict[str, Any]:
    order = args.request.body
    await ctx.enqueue({"topic": "order.created", "data": order.model_dump()})
    return {"status": 202, "body": {"id": order.id}}
