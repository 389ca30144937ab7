"""POST /todos: add a todo to the ``todo`` stream and announce it on ``todo.created``."""

import uuid
from typing import Any

from pydantic import BaseModel

from motia import FlowContext, MotiaHttpArgs, http


class NewTodo(BaseModel):
    title: str


class Todo(BaseModel):
    id: str
    title: str
    done: bool = False


config = {
    "name": "CreateTodo",
    "description": "Create a todo",
    "flows": ["todos"],
    "triggers": [http("POST", "/todos", body_schema=NewTodo, response_schema={201: Todo})],
    "enqueues": ["todo.created"],
}


async def handler(args: MotiaHttpArgs[NewTodo], ctx: FlowContext[Any]) -> dict[str, Any]:
    todo = {"id": str(uuid.uuid4()), "title": args.request.body.title, "done": False}
    created = await ctx.streams.todo.set("all", todo["id"], todo)
    await ctx.enqueue({"topic": "todo.created", "data": created})
    return {"status": 201, "body": created}
