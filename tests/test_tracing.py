"""OpenTelemetry spans: one trace from an HTTP request through a queue step to a stream write."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from motia import Motia, StreamConfig, cron, http, queue, state, step
from motia._core.spans import tracing_for
from motia._runtime.logs import JsonFormatter

pytestmark = pytest.mark.anyio


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


async def ingest(args: Any, ctx: Any) -> dict[str, Any]:
    ctx.logger.info("accepted")
    await ctx.enqueue({"topic": "order.created", "data": args.request.body})
    return {"status": 202, "body": {"trace": ctx.trace_id}}


async def record(data: Any, ctx: Any) -> None:
    await ctx.streams.orders.set("all", data["id"], data)
    await ctx.state.set("orders", data["id"], data)


async def audit(data: Any, ctx: Any) -> None:
    ctx.logger.info("audited")


async def broken(args: Any, ctx: Any) -> dict[str, Any]:
    raise ValueError("no such order")


STEPS = [
    step({"name": "Ingest", "triggers": [http("POST", "/orders")], "enqueues": ["order.created"]},
         ingest),
    step({"name": "Record", "triggers": [queue("order.created")]}, record),
    step({"name": "Audit", "triggers": [state()]}, audit),
    step({"name": "Broken", "triggers": [http("GET", "/broken")]}, broken),
]  # fmt: skip


@asynccontextmanager
async def running(provider: TracerProvider | None) -> AsyncIterator[httpx.AsyncClient]:
    app = Motia(
        steps_dir=None,
        steps=STEPS,
        streams=[StreamConfig(name="orders")],
        store="memory",
        tracer_provider=provider,
    )
    asgi = app.asgi()
    async with asgi.router.lifespan_context(asgi):
        transport = httpx.ASGITransport(asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def spans_until(
    exporter: InMemorySpanExporter, done: Callable[[list[ReadableSpan]], bool]
) -> list[ReadableSpan]:
    with anyio.fail_after(5):
        while not done(spans := list(exporter.get_finished_spans())):
            await anyio.sleep(0.01)
    return spans


def named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    matches = [span for span in spans if span.name == name]
    assert len(matches) == 1, [span.name for span in spans]
    return matches[0]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_trace_runs_from_the_request_through_the_queue_to_the_stream_write(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with running(provider) as client:
        response = await client.post("/orders", json={"id": "o1"})
        spans = await spans_until(exporter, lambda s: any(x.name == "step:Audit" for x in s))

    request = named(spans, "step:Ingest")  # the request's span is the HTTP step's run
    enqueue = named(spans, "enqueue")
    record_run = named(spans, "step:Record")
    stream_set = named(spans, "stream::set")
    state_set = named(spans, "state::set")
    audit_run = named(spans, "step:Audit")

    assert request.parent is None and request.kind is SpanKind.SERVER
    assert parent_of(enqueue) == request.context.span_id
    assert parent_of(record_run) == enqueue.context.span_id
    assert record_run.kind is SpanKind.CONSUMER
    assert parent_of(stream_set) == record_run.context.span_id
    assert parent_of(state_set) == record_run.context.span_id
    assert parent_of(audit_run) == state_set.context.span_id  # a state trigger: same trace
    assert {span.context.trace_id for span in spans} == {request.context.trace_id}

    trace_id = f"{request.context.trace_id:032x}"
    assert response.headers["x-trace-id"] == trace_id == response.json()["trace"]
    assert response.headers["traceparent"].startswith(
        f"00-{trace_id}-{request.context.span_id:016x}-"
    )
    assert request.attributes["http.response.status_code"] == 202
    assert request.attributes["http.request.method"] == "POST"
    assert request.attributes["http.route"] == "/orders"
    assert request.attributes["motia.trigger.type"] == "http"
    assert record_run.attributes["motia.step.name"] == "Record"
    assert record_run.attributes["motia.trigger.type"] == "queue"
    assert enqueue.attributes["messaging.destination.name"] == "order.created"
    assert stream_set.attributes["motia.stream.name"] == "orders"
    assert stream_set.attributes["motia.stream.item_id"] == "o1"
    assert state_set.attributes["motia.state.scope"] == "orders"


async def test_an_incoming_traceparent_is_the_request_spans_parent(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with running(provider) as client:
        traceparent = f"00-{caller_trace}-{caller_span}-01"
        response = await client.post(
            "/orders", json={"id": "o2"}, headers={"traceparent": traceparent}
        )
        spans = await spans_until(exporter, lambda s: any(x.name == "step:Record" for x in s))

    request = named(spans, "step:Ingest")
    assert f"{request.context.trace_id:032x}" == caller_trace
    assert f"{parent_of(request):016x}" == caller_span
    assert response.headers["x-trace-id"] == caller_trace
    assert response.headers["traceparent"].startswith(f"00-{caller_trace}-")


async def test_a_failing_handler_marks_its_spans_failed(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with running(provider) as client:
        response = await client.get("/broken")
    assert response.status_code == 500
    spans = list(exporter.get_finished_spans())
    run = named(spans, "step:Broken")
    assert run.status.status_code is StatusCode.ERROR
    assert "ValueError: no such order" in (run.status.description or "")
    assert [event.name for event in run.events] == ["exception"]
    assert run.attributes["http.response.status_code"] == 500


async def test_a_cron_run_starts_its_own_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async def tick(ctx: Any) -> None:
        await ctx.state.set("ticks", "last", 1)

    app = Motia(
        steps_dir=None,
        steps=[step({"name": "Tick", "triggers": [cron("* * * * * *")]}, tick)],
        store="memory",
        tracer_provider=provider,
    )
    job = app.runtime.cron.jobs[0]
    await job.run()
    spans = list(exporter.get_finished_spans())
    run = named(spans, "step:Tick")
    assert run.parent is None
    assert run.attributes["motia.trigger.type"] == "cron"
    assert parent_of(named(spans, "state::set")) == run.context.span_id


async def test_json_log_lines_carry_the_trace_and_span_ids(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    handler, logger = Keep(), logging.getLogger("motia.steps")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        async with running(provider) as client:
            await client.post("/orders", json={"id": "o3"})
            await spans_until(exporter, lambda s: any(x.name == "step:Audit" for x in s))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    spans = list(exporter.get_finished_spans())
    accepted = next(json.loads(line) for line in lines if '"accepted"' in line)
    ingest_run = named(spans, "step:Ingest")
    assert accepted["trace_id"] == f"{ingest_run.context.trace_id:032x}"
    assert accepted["span_id"] == f"{ingest_run.context.span_id:016x}"


async def test_without_a_provider_nothing_is_traced() -> None:
    assert tracing_for(None) is None  # no provider installed, no OTEL_* variables
    async with running(None) as client:
        response = await client.post("/orders", json={"id": "o4"}, headers={"x-trace-id": "mine"})
    assert response.headers["x-trace-id"] == "mine"
    assert "traceparent" not in response.headers


PROBE = """
import json
from motia._core.otel_config import configured_provider

provider = configured_provider()
if provider is None:
    print(json.dumps(None))
else:
    processors = provider._active_span_processor._span_processors
    print(json.dumps({
        "service": provider.resource.attributes["service.name"],
        "sampler": type(provider.sampler).__name__,
        "exporters": [type(p.span_exporter).__name__ for p in processors],
    }))
"""


def provider_made_with(**env: str) -> Any:
    """What ``configured_provider`` makes of these variables, in a fresh process."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_the_standard_variables_configure_the_sdk() -> None:
    assert provider_made_with() is None  # nothing asks for traces
    made = provider_made_with(
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318",
        OTEL_SERVICE_NAME="orders-api",
        OTEL_TRACES_SAMPLER="parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG="0.1",
    )
    assert made == {
        "service": "orders-api",
        "sampler": "ParentBasedTraceIdRatio",
        "exporters": ["OTLPSpanExporter"],
    }
    console = provider_made_with(OTEL_TRACES_EXPORTER="console")
    assert console["service"] == "motia" and console["exporters"] == ["ConsoleSpanExporter"]
    assert provider_made_with(OTEL_TRACES_EXPORTER="none") is None
    off = provider_made_with(OTEL_EXPORTER_OTLP_ENDPOINT="http://x:4318", OTEL_SDK_DISABLED="true")
    assert off is None


WITHOUT_OPENTELEMETRY = """
import sys
sys.modules["opentelemetry"] = None  # as if it were not installed: every import of it fails

import anyio
import httpx
from motia import Motia, http, step

async def hello(args, ctx):
    return {"status": 200, "body": {"trace": ctx.trace_id}}

async def main():
    app = Motia(steps_dir=None, store="memory",
                steps=[step({"name": "Hello", "triggers": [http("GET", "/hello")]}, hello)])
    assert app.runtime.tracing is None
    transport = httpx.ASGITransport(app.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/hello", headers={"x-trace-id": "mine"})
    assert response.json() == {"trace": "mine"}, response.text
    assert "traceparent" not in response.headers

anyio.run(main)
"""


@pytest.mark.slow
def test_without_opentelemetry_installed_the_app_serves_and_says_what_is_missing() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    for env, warned in (({}, False), ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318"}, True)):
        result = subprocess.run(
            [sys.executable, "-c", WITHOUT_OPENTELEMETRY],
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert ("pip install 'motia-asgi[otel]'" in result.stderr) is warned, result.stderr


async def test_with_tracing_an_x_trace_id_alone_does_not_name_the_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    async with running(provider) as client:
        response = await client.post("/orders", json={"id": "o5"}, headers={"x-trace-id": "mine"})
    request = named(list(exporter.get_finished_spans()), "step:Ingest")
    assert request.parent is None
    assert response.headers["x-trace-id"] == f"{request.context.trace_id:032x}"
