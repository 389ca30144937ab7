"""POST /todo: add a todo; subscribers of the ``todo`` stream (group ``inbox``) see it at once."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from motia import FlowContext, MotiaHttpArgs, http


class NewTodo(BaseModel):
    description: str


config = {
    "name": "CreateTodo",
    "description": "Create a todo and push it to the todo stream",
    "flows": ["todo"],
    "triggers": [http("POST", "/todo", body_schema=NewTodo)],
    "enqueues": ["todo.created"],
}


async def handler(args: MotiaHttpArgs[NewTodo], ctx: FlowContext[Any]) -> dict[str, Any]:
    todo_id = str(uuid.uuid4())
    todo = {
        "id": todo_id,
        "description": args.request.body.description,
        "createdAt": datetime.now(UTC).isoformat(),
        "completedAt": None,
    }
    created = await ctx.streams.todo.set("inbox", todo_id, todo)
    await ctx.state.set("todos", todo_id, created)
    await ctx.enqueue({"topic": "todo.created", "data": created})
    ctx.logger.info("todo created", {"id": todo_id})
    return {"status": 201, "body": created}
