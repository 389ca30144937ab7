"""The test kit used directly: fake context, run helpers, HTTP/SSE client, stream client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from motia import Motia, SchemaValidationError, StreamConfig, cron, http, queue, state, step, stream
from motia._project.trigger_inputs import StateTriggerInput
from motia.testing import (
    FakeContext,
    JoinRefused,
    RunningApp,
    create_test_context,
    load_step,
    run_cron,
    run_http,
    run_queue,
    run_state,
    run_stream,
)

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
Failed = pytest.fail.Exception


class Todo(BaseModel):
    id: str
    title: str


async def ticker(args: Any, ctx: Any) -> None:
    """An endless event stream that records its cleanup."""
    try:
        await args.response.status(200)
        await args.response.headers({"content-type": "text/event-stream"})
        for index in range(10**9):
            await args.response.send(event="tick", data={"i": index})
            await asyncio.sleep(0.005)
    finally:
        ctx.logger.info("cleaned up")


async def silent(args: Any, ctx: Any) -> None:
    try:
        await args.response.headers({"content-type": "text/event-stream"})
        await args.response.send(event="hello", data="x")
        await asyncio.sleep(60)
    finally:
        ctx.logger.info("cleaned up")


TICKER = step({"name": "Ticker", "triggers": [http("GET", "/ticks")]}, ticker)
SILENT = step({"name": "Silent", "triggers": [http("GET", "/silent")]}, silent)


# -- FakeContext -----------------------------------------------------------------------


async def test_fake_context_records_what_the_handler_did() -> None:
    ctx = create_test_context(streams=[StreamConfig("todo", schema=Todo)])
    await ctx.enqueue({"topic": "todo.created", "data": {"id": "1"}})
    await ctx.state.set("todos", "1", {"n": 1})
    await ctx.state.update("todos", "1", [{"type": "increment", "path": "n", "by": 2}])
    await ctx.streams.todo.set("inbox", "1", {"title": "x"})
    await ctx.streams.todo.send({"groupId": "inbox"}, {"type": "typing", "data": {"u": 1}})
    ctx.logger.warn("careful", {"k": 1})

    assert ctx.enqueued == [{"topic": "todo.created", "data": {"id": "1"}}]
    assert ctx.enqueued_to("todo.created") == [{"id": "1"}]
    assert await ctx.state.get("todos", "1") == {"n": 3}
    assert [(w.kind, w.new_value) for w in ctx.state_writes] == [
        ("create", {"n": 1}),
        ("update", {"n": 3}),
    ]
    assert [(w.stream, w.kind, w.new_value) for w in ctx.stream_writes] == [
        ("todo", "create", {"title": "x", "id": "1"})
    ]
    assert [(e.stream, e.type, e.data) for e in ctx.stream_events] == [("todo", "typing", {"u": 1})]
    assert [(e.level, e.message, e.data) for e in ctx.logs] == [("warning", "careful", {"k": 1})]


async def test_fake_context_streams_validate_and_auto_create() -> None:
    ctx = FakeContext(streams=[StreamConfig("todo", schema=Todo)])
    with pytest.raises(SchemaValidationError):
        await ctx.streams.todo.set("inbox", "1", {"wrong": True})
    await ctx.streams["anything"].set("g", "a", {"free": "form"})
    assert await ctx.streams.anything.get_group("g") == [{"free": "form", "id": "a"}]
    strict = FakeContext(auto_streams=False)
    with pytest.raises(AttributeError, match="unknown stream 'todo'"):
        strict.streams.todo


async def test_fake_context_refuses_a_malformed_enqueue() -> None:
    ctx = create_test_context()
    with pytest.raises(ValueError, match="topic"):
        await ctx.enqueue({"data": 1})
    assert ctx.enqueued == []


# -- run_http --------------------------------------------------------------------------


async def test_run_http_a_step_file_with_path_params() -> None:
    result = await run_http(REPO / "steps/hello/hello.step.py", path_params={"name": "Ada"})
    assert result.status == 200
    assert result.body == {"message": "Hello, Ada!", "traceId": "test-trace-id"}
    assert result.ctx.logs[0].data == {"name": "Ada"}


async def test_run_http_validates_the_body_like_the_app() -> None:
    create = load_step(REPO / "steps/todo/create_todo.step.py")
    refused = await run_http(create, {"nope": 1})
    assert refused.status == 400
    assert refused.body["error"] == "Request body validation failed"
    created = await run_http(create, {"description": "buy milk"})
    assert created.status == 201
    assert [w.kind for w in created.ctx.stream_writes] == ["create"]
    assert created.ctx.state_writes[0].new_value == created.body


async def test_run_http_honours_the_condition_and_query() -> None:
    async def handler(args: Any) -> dict[str, Any]:
        return {"status": 200, "body": args.request.query_params}

    gated = step(
        {
            "name": "Gated",
            "triggers": [http("GET", "/g", condition=lambda r, c: "ok" in r.query_params)],
        },
        handler,
    )
    assert (await run_http(gated, query={"no": "1"})).status == 422
    result = await run_http(gated, query={"ok": ["1", "2"]})
    assert result.body == {"ok": ["1", "2"]}


async def test_run_http_a_bare_handler_and_its_errors() -> None:
    async def broken(args: Any, ctx: Any) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        await run_http(broken)
    result = await run_http(broken, raise_errors=False)
    assert result.status == 500 and isinstance(result.error, KeyError)
    assert result.ctx.logs[-1].level == "error"


async def test_run_http_stops_an_endless_stream_after_max_events() -> None:
    result = await run_http(TICKER, max_events=3)
    assert [e.event for e in result.events[:3]] == ["tick"] * 3
    assert result.events[0].json() == {"i": 0}
    assert result.headers["content-type"] == "text/event-stream"
    assert result.ctx.logs[-1].message == "cleaned up"


async def test_run_http_times_out_with_what_it_received() -> None:
    with pytest.raises(Failed, match=r"(?s)still running after 0.2s.*max_events.*'hello'"):
        await run_http(SILENT, timeout=0.2)


# -- run_queue, run_cron, run_state, run_stream ----------------------------------------------


class Order(BaseModel):
    id: str
    total: int


async def _ship(order: Order, ctx: Any) -> str:
    await ctx.enqueue({"topic": "shipped", "data": {"id": order.id}})
    return order.id


SHIP = step(
    {
        "name": "Ship",
        "triggers": [queue("orders", input=Order, condition=lambda o, c: o.total > 0)],
        "enqueues": ["shipped"],
    },
    _ship,
)


async def test_run_queue_validates_input_and_honours_the_condition() -> None:
    run = await run_queue(SHIP, {"id": "o1", "total": 5})
    assert run.returned == "o1" and not run.skipped
    assert run.ctx.enqueued_to("shipped") == [{"id": "o1"}]
    assert run.ctx.trigger.topic == "orders"
    assert (await run_queue(SHIP, {"id": "o2", "total": 0})).skipped
    with pytest.raises(SchemaValidationError):
        await run_queue(SHIP, {"id": "o3"})


async def test_run_cron_and_shared_context() -> None:
    async def tick(ctx: Any) -> None:
        await ctx.state.update("stats", "ticks", [{"type": "increment", "path": "n", "by": 1}])

    tick_step = step({"name": "Tick", "triggers": [cron("*/5 * * * *")]}, tick)
    ctx = create_test_context()
    await run_cron(tick_step, ctx=ctx)
    run = await run_cron(tick_step, ctx=ctx)
    assert await run.ctx.state.get("stats", "ticks") == {"n": 2}
    assert run.ctx.is_cron() and run.ctx.trigger.expression == "*/5 * * * *"


async def test_run_state_and_run_stream() -> None:
    seen: list[Any] = []

    async def record(change: Any, ctx: Any) -> None:
        seen.append(change)

    on_state = step({"name": "OnState", "triggers": [state()]}, record)
    on_stream = step({"name": "OnStream", "triggers": [stream("todo", group_id="inbox")]}, record)
    await run_state(on_state, {"groupId": "g", "itemId": "i", "newValue": 1})
    change = {
        "timestamp": 1,
        "streamName": "todo",
        "groupId": "inbox",
        "id": "x",
        "event": {"type": "create", "data": {"id": "x"}},
    }
    await run_stream(on_stream, change)
    assert (await run_stream(on_stream, {**change, "groupId": "other"})).skipped
    assert isinstance(seen[0], StateTriggerInput) and seen[0].new_value == 1
    assert seen[1].event.type == "create" and len(seen) == 2


async def test_run_helpers_have_a_deadline() -> None:
    async def stuck(data: Any) -> None:
        await asyncio.sleep(60)

    with pytest.raises(Failed, match=r"still running after 0\.1s"):
        await run_queue(stuck, {}, timeout=0.1)


# -- RunningApp: HTTP client and SSE ----------------------------------------------------


def _app(*definitions: Any) -> Motia:
    return Motia(None, steps=definitions, streams=[{"name": "todo"}], store="memory")


async def test_sse_stops_after_max_events_and_waits_for_cleanup() -> None:
    app = _app(TICKER)
    async with RunningApp(app) as running:
        client = running.client()
        async with client.sse("/ticks", max_events=3) as events:
            received = [event.json()["i"] async for event in events]
        assert received == [0, 1, 2]
        assert not app.runtime.responses  # the handler has finished: its finally ran
        assert await client.sse_events("/ticks", max_events=2, timeout=2)


async def test_sse_timeout_fails_with_what_was_received() -> None:
    async with RunningApp(_app(SILENT)) as running:
        client = running.client()
        with pytest.raises(Failed, match=r"GET /silent: expected 2 event\(s\) within 0.3s"):
            await client.sse_events("/silent", max_events=2, timeout=0.3)


async def test_sse_on_a_plain_response_fails_clearly() -> None:
    async def plain(args: Any) -> dict[str, Any]:
        return {"status": 404, "body": {"error": "nope"}}

    async with RunningApp(_app(step({"name": "P", "triggers": [http("GET", "/p")]}, plain))) as r:
        with pytest.raises(Failed, match="expected a 200 text/event-stream response, got 404"):
            await r.client().sse_events("/p")


async def test_plain_requests_and_app_errors() -> None:
    async def echo(args: Any) -> Any:
        return {"status": 201, "body": args.request.body}

    async with RunningApp(_app(step({"name": "E", "triggers": [http("POST", "/e")]}, echo))) as r:
        response = await r.client().post("/e", json={"a": [1]})
        assert response.status_code == 201 and response.json() == {"a": [1]}
        assert (await r.client().get("/missing")).status_code == 404


# -- RunningApp: WebSocket stream client -------------------------------------------------


async def test_stream_client_join_changes_events_and_leave() -> None:
    app = _app()
    todo = app.runtime.streams.todo
    async with RunningApp(app) as running:
        await todo.set("inbox", "a", {"title": "a"})
        ws = await running.stream_client()
        assert await ws.join("todo", "inbox") == [{"title": "a", "id": "a"}]
        assert await ws.join("todo", "inbox", "a") == {"title": "a", "id": "a"}
        await todo.set("inbox", "b", {"title": "b"})
        await todo.send({"groupId": "inbox"}, {"type": "typing", "data": {"u": 1}})
        assert await ws.next_event("typing") == {"type": "typing", "data": {"u": 1}}
        created = await ws.next_message(type="create")
        assert created["id"] == "b" and created["event"]["data"] == {"title": "b", "id": "b"}
        await ws.leave("todo", "inbox")
        await ws.leave("todo", "inbox", "a")
        await ws.no_message(within=0.05)
        await todo.set("inbox", "c", {"title": "c"})
        await ws.no_message(within=0.1)


async def test_stream_client_refused_join_and_deadline() -> None:
    async with RunningApp(_app()) as running:
        ws = await running.stream_client()
        with pytest.raises(JoinRefused) as refused:
            await ws.join("missing", "g")
        assert refused.value.code == "STREAM_NOT_FOUND"
        with pytest.raises(Failed, match=r"no 'update' message within 0\.1s"):
            await ws.next_message(type="update", timeout=0.1)


async def test_run_http_sends_a_model_body_as_json_by_alias() -> None:
    class Order(BaseModel):
        order_id: str = Field(alias="orderId")

    async def handler(args: Any) -> dict[str, Any]:
        return {"status": 200, "body": args.request.body}

    echo = step({"name": "Echo", "triggers": [http("POST", "/echo")]}, handler)
    result = await run_http(echo, Order(orderId="é1"))
    assert result.content == '{"orderId":"é1"}'.encode()
