"""Motia's engine client (``motia.iii.get_instance()``) and what goes through it.

Motia's SDK sends state, stream and enqueue calls, and the functions and triggers of
``motia.runtime.Motia``, to an engine; here one client answers in this process.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel, ValidationError

import motia.runtime
from motia import Motia, Stream, enqueue, http, queue, stateManager, step, tracing
from motia._runtime.local_engine import LocalEngine
from motia.bridge import bridge
from motia.iii import get_instance, init_iii
from motia.loader import generate_step_id
from motia.setup_step_endpoint import setup_step_endpoint
from motia.types import QueueConfig, StepConfig, StreamConfig

pytestmark = pytest.mark.anyio


class Recorder:
    """An engine client that answers every trigger request with ``answer``."""

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer
        self.error = error

    def trigger(self, request: dict[str, Any]) -> Any:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "get_tracer", lambda: provider.get_tracer("motia"))
    yield exporter
    provider.shutdown()


def use_client(monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    # ``motia.state`` and ``motia.enqueue`` are also names of functions of ``motia``.
    for name in ("motia.state", "motia.streams", "motia.enqueue", "motia.runtime"):
        monkeypatch.setattr(importlib.import_module(name), "get_instance", lambda: client)


# -- the client ----------------------------------------------------------------------------


def test_every_name_hands_out_the_one_client() -> None:
    assert get_instance() is init_iii() is init_iii({"enabled": True}) is bridge
    assert isinstance(bridge, LocalEngine)


def test_registered_functions_are_called_by_id() -> None:
    engine = LocalEngine()

    async def double(payload: dict[str, int]) -> int:
        return payload["n"] * 2

    engine.register_function({"id": "math::double"}, double)
    engine.register_function("math::negate", lambda payload: -payload["n"])
    assert engine.trigger({"function_id": "math::double", "payload": {"n": 21}}) == 42
    assert engine.trigger({"function_id": "math::negate", "payload": {"n": 1}}) == -1
    assert engine.functions == ["math::double", "math::negate"]
    with pytest.raises(ValueError, match="'math::double' already registered"):
        engine.register_function({"id": "math::double"}, double)


async def test_on_a_loop_an_async_function_is_awaited_not_blocked_on() -> None:
    engine = LocalEngine()

    async def ping(payload: Any) -> str:
        return "pong"

    engine.register_function({"id": "ping"}, ping)
    assert await engine.trigger_async({"function_id": "ping", "payload": None}) == "pong"
    with pytest.raises(RuntimeError, match="trigger_async"):
        engine.trigger({"function_id": "ping", "payload": None})


def test_unregistered_and_unknown_functions_are_named() -> None:
    engine = LocalEngine()
    registration = engine.register_function({"id": "gone"}, lambda payload: 1)
    registration.unregister()
    with pytest.raises(LookupError, match="function_not_found: no function 'gone'"):
        engine.trigger({"function_id": "gone", "payload": {}})
    with pytest.raises(ValueError, match="function_id"):
        engine.trigger({"payload": {}})


def test_triggers_are_recorded_until_unregistered() -> None:
    engine = LocalEngine()
    cron = {"type": "cron", "function_id": "tick", "config": {"expression": "* * * * *"}}
    registration = engine.register_trigger(cron)
    engine.register_trigger({"type": "queue", "function_id": "tock", "config": {}})
    assert engine.triggers[0] == cron
    registration.unregister()
    assert [t["function_id"] for t in engine.triggers] == ["tock"]
    with pytest.raises(ValueError, match="'function_id'"):
        engine.register_trigger({"type": "http"})
    engine.shutdown()
    assert engine.triggers == [] and engine.functions == []


def test_the_engines_own_calls_need_a_running_handler() -> None:
    with pytest.raises(RuntimeError, match="state::get can only be used while a step handler"):
        get_instance().trigger({"function_id": "state::get", "payload": {"scope": "g", "key": "k"}})


# -- what the module-level API sends ------------------------------------------------------


def test_state_stream_and_enqueue_calls_are_motias_trigger_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Recorder(answer=["a"])
    use_client(monkeypatch, client)
    assert stateManager.list("users") == ["a"]
    stateManager.set("users", "u1", {"n": 1})
    stateManager.clear("users")
    Stream("todo").get_group("inbox")
    Stream("todo").delete("inbox", "t1")
    Stream("todo").list_groups()
    enqueue({"topic": "seen", "data": {}})
    assert client.requests == [
        {"function_id": "state::list", "payload": {"scope": "users"}},
        {
            "function_id": "state::set",
            "payload": {"scope": "users", "key": "u1", "value": {"n": 1}},
        },
        {"function_id": "state::clear", "payload": {"scope": "users"}},
        {"function_id": "stream::list", "payload": {"stream_name": "todo", "group_id": "inbox"}},
        {
            "function_id": "stream::delete",
            "payload": {"stream_name": "todo", "group_id": "inbox", "item_id": "t1"},
        },
        {"function_id": "stream::list_groups", "payload": {"stream_name": "todo"}},
        {"function_id": "enqueue", "payload": {"topic": "seen", "data": {}}},
    ]


def test_each_call_to_an_engine_is_a_client_span(
    monkeypatch: pytest.MonkeyPatch, exporter: InMemorySpanExporter
) -> None:
    use_client(monkeypatch, Recorder(answer={"id": "t1"}))
    Stream("todo").get("inbox", "t1")
    use_client(monkeypatch, Recorder(error=LookupError("function_not_found")))
    with pytest.raises(LookupError):
        stateManager.get("users", "u1")
    got, failed = exporter.get_finished_spans()
    assert (got.name, got.kind, got.status.status_code) == (
        "stream::get",
        SpanKind.CLIENT,
        StatusCode.OK,
    )
    assert dict(got.attributes or {}) == {
        "motia.stream.name": "todo",
        "motia.stream.group_id": "inbox",
        "motia.stream.item_id": "t1",
    }
    assert (failed.name, failed.status.status_code) == ("state::get", StatusCode.ERROR)
    assert dict(failed.attributes or {}) == {"motia.state.scope": "users", "motia.state.key": "u1"}


async def test_in_process_calls_are_spanned_once_by_the_app(
    monkeypatch: pytest.MonkeyPatch, exporter: InMemorySpanExporter
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "get_tracer", lambda: provider.get_tracer("motia"))

    def handler(args: Any) -> dict[str, Any]:
        return {"status": 200, "body": stateManager.set("g", "k", 1)}

    app = Motia(
        steps_dir=None,
        steps=[step({"name": "Writer", "triggers": [http("POST", "/w")]}, handler)],
        store="memory",
        tracer_provider=provider,
    )
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.post("/w")).json() == {"old_value": None, "new_value": 1}
    names = [span.name for span in exporter.get_finished_spans()]
    assert names.count("state::set") == 1, names


# -- motia.runtime.Motia --------------------------------------------------------------------


class Order(BaseModel):
    amount: int


class Writer:
    """The engine's response channel: messages, and bytes on ``stream``."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.body = b""
        self.closed = False
        self.stream = self

    async def send_message_async(self, message: str) -> None:
        self.messages.append(json.loads(message))

    def write(self, data: bytes) -> None:
        self.body += data

    def close(self) -> None:
        self.closed = True


def test_each_trigger_is_a_function_and_a_trigger_on_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = LocalEngine()
    use_client(monkeypatch, engine)
    config = {
        "name": "Orders",
        "triggers": [
            http("POST", "/orders", body_schema=Order, condition=lambda req, ctx: True),
            queue("order.created", config=QueueConfig(max_retries=3)),
            queue("order.created"),
        ],
    }
    motia.runtime.Motia().add_step(config, "steps/orders_step.py", lambda data, ctx: None)
    assert engine.functions == [
        "steps::Orders::trigger::http(POST /orders)",
        "steps::Orders::trigger::http(POST /orders)::conditions::0",
        "steps::Orders::trigger::queue(order.created)",
        "steps::Orders::trigger::queue(order.created)::2",
    ]
    api, first, second = engine.triggers
    assert api["type"] == "http"
    assert api["config"]["api_path"] == "orders" and api["config"]["http_method"] == "POST"
    assert api["config"]["condition_function_id"].endswith("::conditions::0")
    metadata = api["config"]["metadata"]
    assert metadata["filePath"] == "steps/orders_step.py"
    assert metadata["triggers"][0]["bodySchema"]["properties"]["amount"]["type"] == "integer"
    assert "condition" not in metadata["triggers"][0]
    assert first["config"]["queue_config"]["maxRetries"] == 3
    assert "queue_config" not in second["config"]


async def test_an_http_function_answers_on_the_engines_response_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = LocalEngine()
    use_client(monkeypatch, engine)
    seen: dict[str, Any] = {}

    async def handler(args: Any, ctx: Any) -> dict[str, Any]:
        seen.update(trigger=ctx.trigger.type, body=args.request.body, id=args.path_params["id"])
        return {"status": 201, "headers": {"x-a": "1"}, "body": {"ok": True}}

    motia.runtime.Motia().add_step(
        StepConfig(name="Put", triggers=[http("PUT", "/items/:id")]), "steps/put_step.py", handler
    )
    writer = Writer()
    payload = {"method": "PUT", "path_params": {"id": "7"}, "body": {"n": 1}, "response": writer}
    result = await engine.trigger_async(
        {"function_id": "steps::Put::trigger::http(PUT /items/:id)", "payload": payload}
    )
    assert result["status_code"] == 201
    assert seen == {"trigger": "http", "body": {"n": 1}, "id": "7"}
    assert writer.messages == [
        {"type": "set_status", "status_code": 201},
        {"type": "set_headers", "headers": {"x-a": "1"}},
    ]
    assert json.loads(writer.body) == {"ok": True} and writer.closed


async def test_a_queue_functions_input_is_checked_against_its_schema(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = LocalEngine()
    use_client(monkeypatch, engine)
    received: list[Any] = []
    motia.runtime.Motia().add_step(
        {"name": "Bill", "triggers": [queue("bill", input=Order)]},
        "steps/bill_step.py",
        lambda data, ctx: received.append(data),
    )
    call = {"function_id": "steps::Bill::trigger::queue(bill)", "payload": {"amount": 3}}
    await engine.trigger_async(call)
    assert received == [Order(amount=3)]
    with caplog.at_level(logging.ERROR, logger="motia.runtime"), pytest.raises(ValidationError):
        await engine.trigger_async({**call, "payload": {"amount": "lots"}})
    assert "queue:Bill" in caplog.text


async def test_a_runs_ctx_enqueues_through_the_client_in_a_step_span(
    monkeypatch: pytest.MonkeyPatch, exporter: InMemorySpanExporter
) -> None:
    engine, client = LocalEngine(), Recorder()
    use_client(monkeypatch, engine)

    async def handler(data: Any, ctx: Any) -> None:
        assert ctx.state is None
        await ctx.enqueue({"topic": "next", "data": data})

    motia.runtime.Motia().add_step(
        {"name": "Relay", "triggers": [queue("in")]}, "steps/relay_step.py", handler
    )
    use_client(monkeypatch, client)
    await engine.trigger_async({"function_id": "steps::Relay::trigger::queue(in)", "payload": 5})
    assert client.requests == [{"function_id": "enqueue", "payload": {"topic": "next", "data": 5}}]
    run = next(span for span in exporter.get_finished_spans() if span.name == "step:Relay")
    assert (run.attributes or {})["motia.trigger.type"] == "queue"
    assert run.status.status_code is StatusCode.OK


async def test_initialize_registers_the_stream_hooks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = LocalEngine()
    use_client(monkeypatch, engine)
    joined: list[Any] = []
    runtime = motia.runtime.Motia()
    runtime.add_stream(
        StreamConfig(
            name="chat", on_join=lambda sub, ctx, auth: joined.append((sub, auth)) or True
        ),
        "steps/chat.stream.py",
    )
    runtime.set_authenticate(lambda request, ctx: request.headers.get("authorization") == "ok")
    runtime.initialize()
    assert engine.functions == [
        "motia::stream::authenticate",
        "motia_step_get",
        "motia::stream::join",
    ]
    assert engine.triggers[1:] == [
        {"type": "stream:join", "function_id": "motia::stream::join", "config": {}}
    ]
    call = {"function_id": "motia::stream::authenticate", "payload": {"headers": {}}}
    assert await engine.trigger_async(call) == {"authorized": False}
    join = {"stream_name": "chat", "group_id": "room", "id": None, "context": {"user": "u"}}
    assert await engine.trigger_async({"function_id": "motia::stream::join", "payload": join})
    assert [(sub.group_id, auth) for sub, auth in joined] == [("room", {"user": "u"})]


def test_a_step_needs_a_handler() -> None:
    with pytest.raises(ValueError, match="handler is required"):
        motia.runtime.Motia().add_step({"name": "X", "triggers": [queue("x")]}, "steps/x_step.py")


# -- trace context through an engine client --------------------------------------------


class Bridge:
    def __init__(self) -> None:
        self.handled: list[Any] = []

    def _to_dict(self, message: dict[str, Any]) -> dict[str, Any]:
        return dict(message)

    async def _handle_message(self, raw: str) -> None:
        self.handled.append(raw)


async def test_an_instrumented_client_carries_trace_context_both_ways(
    exporter: InMemorySpanExporter,
) -> None:
    client = Bridge()
    tracing.instrument_bridge(client)
    patched = client._to_dict
    tracing.instrument_bridge(client)
    assert client._to_dict is patched
    with tracing.operation_span("call") as span:
        sent = client._to_dict({"type": "invokefunction"})
        other = client._to_dict({"type": "registerfunction"})
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert sent["traceparent"].split("-")[1] == trace_id and "traceparent" not in other

    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    raw = json.dumps({"type": "invokefunction", "traceparent": parent})
    await client._handle_message(raw)
    with tracing.step_span("Run", "queue"):
        pass
    run = exporter.get_finished_spans()[-1]
    assert client.handled == [raw]
    assert format(run.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert run.parent is not None and format(run.parent.span_id, "016x") == "b7ad6b7169203331"


# -- the step content endpoint of Motia's tooling ----------------------------------------


def step_endpoint(root: Path) -> Any:
    engine = LocalEngine()
    setup_step_endpoint(engine)
    assert engine.triggers == [
        {
            "type": "http",
            "function_id": "motia_step_get",
            "config": {"api_path": "__motia/step/:stepId", "http_method": "GET"},
        }
    ]

    def get(step_id: str | None) -> Any:
        params = {} if step_id is None else {"stepId": step_id}
        call = {"function_id": "motia_step_get", "payload": {"path_params": params}}
        return engine.trigger(call)

    return get


def test_the_step_endpoint_answers_with_a_steps_source_and_features(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src" / "billing").mkdir(parents=True)
    (tmp_path / "steps").mkdir()
    (tmp_path / "src" / "billing" / "charge_step.py").write_text("config = {}\n")
    (tmp_path / "steps" / "refund.step.py").write_text("broken = (\n")
    features = tmp_path / "tutorial" / "billing" / "charge_step.py-features.json"
    features.parent.mkdir(parents=True)
    features.write_text('[{"title": "Charge"}]')
    (tmp_path / "steps" / "refund.step.py-features.json").write_text("{not json")
    get = step_endpoint(tmp_path)

    charge = generate_step_id("src/billing/charge_step.py")
    assert get(charge) == {
        "status_code": 200,
        "body": {"id": charge, "content": "config = {}\n", "features": [{"title": "Charge"}]},
    }
    assert get(generate_step_id("steps/refund.step.py"))["body"]["features"] == []
    assert get(None) == {"status_code": 400, "body": {"error": "stepId is required"}}
    assert get("nope") == {"status_code": 404, "body": {"error": "Step not found"}}


def test_a_step_file_that_cannot_be_read_is_a_500(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "gone_step.py").write_text("")
    get = step_endpoint(tmp_path)
    (tmp_path / "steps" / "gone_step.py").unlink()
    answer = get(generate_step_id("steps/gone_step.py"))
    assert answer["status_code"] == 500
    assert answer["body"]["error"].startswith("Failed to read step: ")
