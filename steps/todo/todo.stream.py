"""The ``todo`` stream: a live list of todos per group (``inbox``).

Every join bumps the ``watching`` counter of the ``inbox`` stream for that
group, every leave lowers it, so subscribers of ``inbox`` see who is watching.
Only the groups the app writes to can be joined: a group name a client makes up
is refused, and stores nothing.
"""

from typing import Any

from pydantic import BaseModel

from motia import StreamConfig


class Todo(BaseModel):
    id: str
    description: str
    createdAt: str
    completedAt: str | None = None


GROUPS = frozenset({"inbox"})


async def on_join(subscription: Any, ctx: Any, auth_context: Any) -> dict[str, bool]:
    if subscription.group_id not in GROUPS:
        return {"unauthorized": True}
    ctx.logger.info("todo watcher joined", {"groupId": subscription.group_id})
    await ctx.streams.inbox.update(
        "watching", subscription.group_id, [{"type": "increment", "path": "watching", "by": 1}]
    )
    return {"unauthorized": False}


async def on_leave(subscription: Any, ctx: Any, auth_context: Any) -> None:
    await ctx.streams.inbox.update(
        "watching", subscription.group_id, [{"type": "decrement", "path": "watching", "by": 1}]
    )


config = StreamConfig(
    name="todo",
    schema=Todo,
    base_config={"storage_type": "default"},
    on_join=on_join,
    on_leave=on_leave,
)
