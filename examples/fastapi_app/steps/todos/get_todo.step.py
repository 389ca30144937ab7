"""GET /todos/:id: one todo from the ``todo`` stream."""

from typing import Any

from pydantic import BaseModel

from motia import FlowContext, MotiaHttpArgs, http


class Todo(BaseModel):
    id: str
    title: str
    done: bool = False


NOT_FOUND = {"type": "object", "properties": {"error": {"type": "string"}}}

config = {
    "name": "GetTodo",
    "description": "Fetch one todo by id",
    "flows": ["todos"],
    "triggers": [http("GET", "/todos/:id", response_schema={200: Todo, 404: NOT_FOUND})],
}


async def handler(args: MotiaHttpArgs[Any], ctx: FlowContext[Any]) -> dict[str, Any]:
    todo = await ctx.streams.todo.get("all", args.request.path_params["id"])
    if todo is None:
        return {"status": 404, "body": {"error": "no such todo"}}
    return {"status": 200, "body": todo}
