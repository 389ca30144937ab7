"""Queue step on ``todo.created``: keeps a count of created todos in state."""

from typing import Any

from motia import FlowContext, queue

config = {
    "name": "CountTodos",
    "description": "Count every created todo",
    "flows": ["todos"],
    "triggers": [queue("todo.created")],
}


async def handler(todo: dict[str, Any], ctx: FlowContext[Any]) -> None:
    await ctx.state.update("stats", "todos", [{"type": "increment", "path": "created", "by": 1}])
    ctx.logger.info("todo counted", {"id": todo["id"]})
