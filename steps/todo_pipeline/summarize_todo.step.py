"""Queue step on ``todo.created``: keeps a short summary of each new todo in state."""

from typing import Any

from pydantic import BaseModel

from motia import FlowContext, queue


class CreatedTodo(BaseModel):
    id: str
    description: str


config = {
    "name": "SummarizeTodo",
    "description": "Summarize each created todo into the todo-summaries state group",
    "flows": ["todo"],
    "triggers": [
        queue("todo.created", input=CreatedTodo, config={"max_retries": 3, "concurrency": 5})
    ],
    "enqueues": [],
}


async def handler(todo: CreatedTodo, ctx: FlowContext[Any]) -> None:
    words = todo.description.split()
    summary = {"id": todo.id, "words": len(words), "title": " ".join(words[:5])}
    await ctx.state.set("todo-summaries", todo.id, summary)
    ctx.logger.info("todo summarized", summary)
