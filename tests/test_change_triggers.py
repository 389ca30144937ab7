"""State and stream triggers: inputs, matching, conditions and the loop guard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import Motia, StreamConfig, http, multi_trigger_step, queue, state, step, stream
from motia._project.trigger_inputs import StateTriggerInput, StreamTriggerInput
from motia._runtime.change_triggers import MAX_CHAIN

pytestmark = pytest.mark.anyio


class Todo(BaseModel):
    id: str
    title: str


@asynccontextmanager
async def running(*definitions: Any) -> AsyncIterator[Motia]:
    todo = StreamConfig(name="todo", schema=Todo)
    app = Motia(steps_dir=None, steps=list(definitions), streams=[todo], store="memory")
    asgi = app.asgi()
    async with asgi.router.lifespan_context(asgi):
        yield app


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    with anyio.fail_after(seconds):
        while not check():
            await anyio.sleep(0.01)


async def triggers_idle(app: Motia) -> None:
    """Wait until no trigger run is in flight.

    A write registers the runs it fires before it returns, so once none is left none can start.
    """
    await eventually(lambda: not app.runtime.triggers.tasks)


def writer(action: Callable[[Any], Any]) -> Any:
    async def handler(args: Any, ctx: Any) -> dict[str, Any]:
        await action(ctx)
        return {"status": 200, "body": {}}

    return step({"name": "Writer", "triggers": [http("POST", "/write")]}, handler)


async def post(app: Motia, path: str = "/write") -> None:
    transport = httpx.ASGITransport(app.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post(path)).status_code == 200


async def test_a_state_trigger_gets_old_and_new_values() -> None:
    seen: list[tuple[StateTriggerInput, str, int | None]] = []

    async def on_state(input: StateTriggerInput, ctx: Any) -> None:
        seen.append((input, ctx.trigger.type, ctx.trigger.index))

    async def write(ctx: Any) -> None:
        await ctx.state.set("todos", "a", {"done": False})
        await ctx.state.update("todos", "a", [{"type": "set", "path": "done", "value": True}])
        await ctx.state.delete("todos", "a")

    watcher = step({"name": "Watcher", "triggers": [state()]}, on_state)
    async with running(writer(write), watcher) as app:
        await post(app)
        await eventually(lambda: len(seen) == 3)
    values = [(i.group_id, i.item_id, i.old_value, i.new_value) for i, _, _ in seen]
    assert sorted(values, key=str) == sorted(
        [
            ("todos", "a", None, {"done": False}),
            ("todos", "a", {"done": False}, {"done": True}),
            ("todos", "a", {"done": True}, None),
        ],
        key=str,
    )
    assert {(kind, index) for _, kind, index in seen} == {("state", 0)}
    assert seen[0][0].model_dump()["groupId"] == "todos"


async def test_a_state_condition_filters_changes() -> None:
    seen: list[str] = []

    async def on_state(input: StateTriggerInput) -> None:
        seen.append(input.item_id)

    def only_done(input: StateTriggerInput, ctx: Any) -> bool:
        return bool(input.new_value and input.new_value.get("done"))

    async def write(ctx: Any) -> None:
        await ctx.state.set("todos", "open", {"done": False})
        await ctx.state.set("todos", "closed", {"done": True})

    watcher = step({"name": "Watcher", "triggers": [state(condition=only_done)]}, on_state)
    async with running(writer(write), watcher) as app:
        await post(app)
        await triggers_idle(app)
    assert seen == ["closed"]


async def test_stream_triggers_match_stream_group_and_item() -> None:
    seen: dict[str, list[tuple[str, str, str]]] = {"any": [], "group": [], "item": []}

    def recorder(key: str) -> Any:
        async def handler(input: StreamTriggerInput) -> None:
            seen[key].append((input.event.type, input.group_id, input.id))

        return handler

    async def write(ctx: Any) -> None:
        await ctx.streams.todo.set("inbox", "t1", {"title": "one"})
        await ctx.streams.todo.set("archive", "t2", {"title": "two"})
        await ctx.streams.todo.update(
            "inbox", "t1", [{"type": "set", "path": "title", "value": "1"}]
        )
        await ctx.streams.todo.delete("inbox", "t1")

    steps = [
        step({"name": "Any", "triggers": [stream("todo")]}, recorder("any")),
        step({"name": "Group", "triggers": [stream("todo", group_id="inbox")]}, recorder("group")),
        step({"name": "Item", "triggers": [stream("todo", item_id="t2")]}, recorder("item")),
    ]
    async with running(writer(write), *steps) as app:
        await post(app)
        await triggers_idle(app)
    assert sorted(seen["any"]) == sorted(
        [("create", "inbox", "t1"), ("create", "archive", "t2"),
         ("update", "inbox", "t1"), ("delete", "inbox", "t1")]
    )  # fmt: skip
    assert sorted(seen["group"]) == sorted(
        [("create", "inbox", "t1"), ("update", "inbox", "t1"), ("delete", "inbox", "t1")]
    )
    assert seen["item"] == [("create", "archive", "t2")]


async def test_stream_trigger_input_carries_the_item_and_a_timestamp() -> None:
    inputs: list[StreamTriggerInput] = []

    async def write(ctx: Any) -> None:
        await ctx.streams.todo.set("inbox", "t1", {"title": "one"})

    async def on_stream(input: StreamTriggerInput) -> None:
        inputs.append(input)

    watcher = step({"name": "Watcher", "triggers": [stream("todo")]}, on_stream)
    async with running(writer(write), watcher) as app:
        await post(app)
        await eventually(lambda: len(inputs) == 1)
    dumped = inputs[0].model_dump()
    assert dumped["streamName"] == "todo" and dumped["groupId"] == "inbox"
    assert dumped["event"] == {"type": "create", "data": {"id": "t1", "title": "one"}}
    assert dumped["timestamp"] > 1_700_000_000_000


async def test_a_trigger_writing_what_triggers_it_does_not_loop() -> None:
    runs = 0

    async def bump(input: StateTriggerInput, ctx: Any) -> None:
        nonlocal runs
        runs += 1
        await ctx.state.update("counters", "hits", [{"type": "increment", "path": "n", "by": 1}])

    async def write(ctx: Any) -> None:
        await ctx.state.set("counters", "start", {"n": 0})

    watcher = step({"name": "Bumper", "triggers": [state()]}, bump)
    async with running(writer(write), watcher) as app:
        await post(app)
        await triggers_idle(app)
        assert runs == 1
        assert await app.runtime.state.get("counters", "hits") == {"n": 1}


async def test_a_ping_pong_between_two_triggers_stops() -> None:
    runs: list[str] = []

    def bouncer(name: str) -> Any:
        async def handler(input: StateTriggerInput, ctx: Any) -> None:
            runs.append(name)
            await ctx.state.set("ball", name, len(runs))

        return step({"name": name, "triggers": [state()]}, handler)

    async def write(ctx: Any) -> None:
        await ctx.state.set("ball", "serve", 0)

    async with running(writer(write), bouncer("Ping"), bouncer("Pong")) as app:
        await post(app)
        await triggers_idle(app)
    assert len(runs) <= 2 * MAX_CHAIN
    assert sorted(set(runs)) == ["Ping", "Pong"]


async def test_a_failing_trigger_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(input: StateTriggerInput) -> None:
        raise ValueError("nope")

    async def write(ctx: Any) -> None:
        await ctx.state.set("g", "k", 1)

    watcher = step({"name": "Broken", "triggers": [state()]}, broken)
    async with running(writer(write), watcher) as app:
        await post(app)
        await eventually(lambda: "state trigger of step 'Broken' failed" in caplog.text)


async def test_a_multi_trigger_step_knows_which_trigger_fired() -> None:
    fired: list[tuple[str, int | None]] = []

    async def on_http(args: Any, ctx: Any) -> dict[str, Any]:
        fired.append((ctx.trigger.type, ctx.trigger.index))
        await ctx.state.set("g", "k", 1)
        return {"status": 200, "body": {"matched": await ctx.match({"http": lambda a: "http"})}}

    async def on_state(input: StateTriggerInput, ctx: Any) -> None:
        fired.append((ctx.trigger.type, ctx.trigger.index))

    config = {
        "name": "Multi",
        "triggers": [queue("unused"), http("POST", "/write"), state()],
    }
    definition = multi_trigger_step(config).on_http(on_http).on_state(on_state).handlers()
    async with running(definition) as app:
        transport = httpx.ASGITransport(app.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/write")
        assert response.json() == {"matched": "http"}
        await eventually(lambda: len(fired) == 2)
    assert fired == [("http", 1), ("state", 2)]
