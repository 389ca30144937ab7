"""The handler context: logger, trace id, trigger info, helpers and handler arity."""

import gc
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel, Field

from motia import FlowContext, Motia, TriggerInfo, http, logger, step
from motia._runtime.context import FlowContext as ContextClass
from motia._runtime.logs import JsonFormatter, PrettyFormatter, StepLogger
from motia._runtime.state import StateManager
from motia._runtime.streams import Streams
from motia.backends.memory import MemoryStore

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serve(*definitions: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = Motia(steps_dir=None, steps=definitions, store="memory").asgi()
    with anyio.fail_after(10):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


def bare_context(input_value: Any) -> ContextClass[Any]:
    """A context built by hand: no app, nothing enqueued."""
    return ContextClass(
        trace_id="t", trigger=TriggerInfo(type="http"), logger=StepLogger(),
        enqueuer=None, input_value=input_value,  # type: ignore[arg-type]
        state=StateManager(MemoryStore()), streams=Streams(),
    )  # fmt: skip


def step_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "motia.steps"]


async def test_logger_methods_carry_trace_id_step_and_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(args: Any, ctx: FlowContext[Any]) -> Any:
        ctx.logger.debug("d", {"k": 1})
        ctx.logger.info("i", {"k": 2})
        ctx.logger.warn("w")
        ctx.logger.warning("w2")
        ctx.logger.error("e", data={"k": 3})
        return {"status": 200, "body": ctx.trace_id}

    caplog.set_level(logging.DEBUG, logger="motia")
    async with serve(step({"name": "Logs", "triggers": [http("GET", "/l")]}, handler)) as client:
        response = await client.get("/l", headers={"x-trace-id": "t-1"})
    assert response.text == "t-1"
    records = step_records(caplog)
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("DEBUG", "d"), ("INFO", "i"), ("WARNING", "w"), ("WARNING", "w2"), ("ERROR", "e"),
    ]  # fmt: skip
    assert {(r.trace_id, r.step) for r in records} == {("t-1", "Logs")}  # type: ignore[attr-defined]
    assert [r.data for r in records] == [{"k": 1}, {"k": 2}, None, None, {"k": 3}]  # type: ignore[attr-defined]


async def test_module_level_logger_uses_the_running_step(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(args: Any) -> Any:
        logger.info("from module logger")
        return {"status": 200, "body": "ok"}

    def sync_handler(args: Any) -> Any:
        logger.info("from a worker thread")
        return {"status": 200, "body": "ok"}

    caplog.set_level(logging.INFO, logger="motia")
    async with serve(
        step({"name": "ModLog", "triggers": [http("GET", "/m")]}, handler),
        step({"name": "SyncLog", "triggers": [http("GET", "/s")]}, sync_handler),
    ) as client:
        await client.get("/m", headers={"x-trace-id": "t-2"})
        await client.get("/s", headers={"x-trace-id": "t-3"})
    records = step_records(caplog)
    assert [(r.getMessage(), r.step, r.trace_id) for r in records] == [  # type: ignore[attr-defined]
        ("from module logger", "ModLog", "t-2"),
        ("from a worker thread", "SyncLog", "t-3"),
    ]


async def test_trigger_info_and_kind_checks() -> None:
    async def handler(args: Any, ctx: FlowContext[Any]) -> Any:
        checks = [ctx.is_http(), ctx.is_api(), ctx.is_queue(), ctx.is_cron(),
                  ctx.is_state(), ctx.is_stream()]  # fmt: skip
        return {"status": 200, "body": {"trigger": ctx.trigger.model_dump(), "checks": checks}}

    triggers = [http("GET", "/first"), http("POST", "/items/:id")]
    async with serve(step({"name": "Info", "triggers": triggers}, handler)) as client:
        response = await client.post("/items/3")
    body = response.json()
    assert body["trigger"] == {
        "type": "http", "index": 1, "path": "/items/:id", "method": "POST",
        "topic": None, "expression": None,
    }  # fmt: skip
    assert body["checks"] == [True, True, False, False, False, False]


async def test_get_data_and_match() -> None:
    async def on_http(args: Any, ctx: FlowContext[Any]) -> Any:
        return {"status": 200, "body": {"data": ctx.get_data(), "via": "http"}}

    async def handler(args: Any, ctx: FlowContext[Any]) -> Any:
        return await ctx.match({"http": on_http, "queue": lambda data: None})

    async with serve(step({"name": "M", "triggers": [http("POST", "/m")]}, handler)) as client:
        response = await client.post("/m", json={"x": 1})
    assert response.json() == {"data": {"x": 1}, "via": "http"}


async def test_match_api_alias_default_and_no_match() -> None:
    ctx = bare_context("input")
    assert await ctx.match({"api": lambda data: f"api:{data}"}) == "api:input"
    assert await ctx.match({"queue": lambda d: 1, "default": lambda d, c: c.trace_id}) == "t"
    with pytest.raises(
        RuntimeError, match="no handler matched trigger type 'http'; handlers: queue"
    ):
        await ctx.match({"queue": lambda d: 1})


async def test_handlers_with_one_or_two_parameters() -> None:
    async def one(args: Any) -> Any:
        return {"status": 200, "body": "one"}

    async def two(args: Any, ctx: Any) -> Any:
        return {"status": 200, "body": f"two:{type(ctx).__name__}"}

    class Callable:
        async def __call__(self, args: Any, ctx: Any) -> Any:
            return {"status": 200, "body": f"object:{ctx.trigger.path}"}

    async with serve(
        step({"name": "One", "triggers": [http("GET", "/one")]}, one),
        step({"name": "Two", "triggers": [http("GET", "/two")]}, two),
        step({"name": "Obj", "triggers": [http("GET", "/obj")]}, Callable()),
    ) as client:
        assert (await client.get("/one")).text == "one"
        assert (await client.get("/two")).text == "two:FlowContext"
        assert (await client.get("/obj")).text == "object:/obj"


async def test_legacy_flat_accessors_on_args() -> None:
    async def handler(args: Any) -> Any:
        return {
            "status": 200,
            "body": [args.body, args.path_params, args.query_params["q"], args.method,
                     args.headers["x-h"], args.get("body"), args.get("nope", "dflt")],
        }  # fmt: skip

    async with serve(
        step({"name": "Flat", "triggers": [http("PUT", "/f/:id")]}, handler)
    ) as client:
        response = await client.put("/f/9?q=1", json=[1], headers={"X-H": "h"})
    assert response.json() == [[1], {"id": "9"}, "1", "PUT", "h", [1], "dflt"]


async def test_unhashable_callable_object_as_handler() -> None:
    @dataclass
    class Greeter:
        word: str

        async def __call__(self, args: Any) -> Any:
            return {"status": 200, "body": self.word}

    async with serve(step({"name": "G", "triggers": [http("GET", "/g")]}, Greeter("hi"))) as client:
        response = await client.get("/g")
    assert (response.status_code, response.text) == (200, "hi")


async def test_functions_made_per_call_are_not_kept_alive() -> None:
    ctx = bare_context(1)
    handler = lambda data: data  # noqa: E731
    first = weakref.ref(handler)
    result = await ctx.match({"http": handler})
    del handler
    assert result == 1
    for i in range(2000):
        assert await ctx.match({"http": lambda data, *, i=i: i}) == i
    gc.collect()
    assert first() is None


def test_log_lines_write_data_by_the_json_policy_and_never_fail() -> None:
    class Order(BaseModel):
        order_id: str = Field(alias="orderId")

    data = {"order": Order(orderId="é1"), "at": object.__new__(_Opaque)}
    record = logging.LogRecord("motia.steps", logging.INFO, __file__, 1, "placed", None, None)
    record.data = data
    assert (
        JsonFormatter()
        .format(record)
        .endswith(',"msg":"placed","data":{"order":{"orderId":"é1"},"at":"opaque"}}')
    )
    assert (
        PrettyFormatter()
        .format(record)
        .endswith(' placed {"order":{"orderId":"é1"},"at":"opaque"}')
    )


class _Opaque:
    def __str__(self) -> str:
        return "opaque"
