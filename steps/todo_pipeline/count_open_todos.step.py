"""Cron step: every 30 seconds, count the open todos into state (`todo-stats` / `open`)."""

from typing import Any

from motia import FlowContext, cron

config = {
    "name": "CountOpenTodos",
    "description": "Count open todos on a schedule",
    "flows": ["todo"],
    "triggers": [cron("*/30 * * * * *")],
}


async def handler(ctx: FlowContext[Any]) -> None:
    todos = await ctx.state.list("todos")
    open_count = sum(1 for todo in todos if not todo.get("completedAt"))
    await ctx.state.set("todo-stats", "open", {"open": open_count, "total": len(todos)})
    ctx.logger.info("open todos counted", {"open": open_count, "total": len(todos)})
