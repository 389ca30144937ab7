"""State trigger: log each todo the moment it is completed."""

from typing import Any

from motia import FlowContext, StateTriggerInput, state


def is_completion(change: StateTriggerInput, ctx: FlowContext[Any]) -> bool:
    old, new = change.old_value or {}, change.new_value or {}
    return (
        change.group_id == "todos" and bool(new.get("completedAt")) and not old.get("completedAt")
    )


config = {
    "name": "LogCompletions",
    "description": "Log todo completions",
    "flows": ["todo"],
    "triggers": [state(condition=is_completion)],
}


async def handler(change: StateTriggerInput, ctx: FlowContext[Any]) -> None:
    ctx.logger.info("todo completed", {"id": change.item_id})
