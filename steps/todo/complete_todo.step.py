"""POST /todo/:id/complete: mark a todo done in the stream and in state."""

from datetime import UTC, datetime
from typing import Any

from motia import FlowContext, MotiaHttpArgs, http

config = {
    "name": "CompleteTodo",
    "description": "Mark a todo as completed",
    "flows": ["todo"],
    "triggers": [http("POST", "/todo/:id/complete")],
}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    todo_id = args.request.path_params["id"]
    if await ctx.state.get("todos", todo_id) is None:
        return {"status": 404, "body": {"error": f"no todo {todo_id}"}}
    done = [{"type": "set", "path": "completedAt", "value": datetime.now(UTC).isoformat()}]
    todo = await ctx.streams.todo.update("inbox", todo_id, done)
    await ctx.state.set("todos", todo_id, todo)
    return {"status": 200, "body": todo}
