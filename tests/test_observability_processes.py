"""Traces and metrics across processes sharing Redis: one trace spans two processes, and
``--workers N`` adds every worker's counts up."""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anyio
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from redis_support import DisposableRedisStore, Servers, redis_url, require_redis, unique_prefix

from motia import Motia

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

INGEST_STEP = """
from motia import http

config = {"name": "Ingest", "triggers": [http("POST", "/orders")], "enqueues": ["order.created"]}


async def handler(request, ctx):
    await ctx.enqueue({"topic": "order.created", "data": request.body})
    return {"status": 202, "body": {"trace": ctx.trace_id}}
"""

RECORD_STEP = """
from motia import queue

config = {"name": "Record", "triggers": [queue("order.created")]}


async def handler(data, ctx):
    await ctx.streams.orders.set("all", data["id"], data)
"""

ORDERS_STREAM = """
config = {"name": "orders", "schema": {"type": "object"}, "baseConfig": {"storageType": "default"}}
"""

PID_STEP = """
import os

from motia import http

config = {"name": "Pid", "triggers": [http("GET", "/pid")]}


async def handler(request):
    return {"status": 200, "body": {"pid": os.getpid()}}
"""


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    service: str


class OtlpReceiver:
    """An OTLP/HTTP endpoint on loopback keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.keep(body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def keep(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            service,
                        )
                    )

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def project(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "steps").mkdir()
    for name, source in files.items():
        (tmp_path / "steps" / name).write_text(textwrap.dedent(source))
    return tmp_path


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    require_redis()
    files = {
        "ingest.step.py": INGEST_STEP,
        "record.step.py": RECORD_STEP,
        "orders.stream.py": ORDERS_STREAM,
        "pid.step.py": PID_STEP,
    }
    started = Servers(project(tmp_path, **files), unique_prefix())
    try:
        yield started
    finally:
        started.kill_all()
        anyio.run(_purge, started.env["MOTIA_REDIS_PREFIX"])


async def _purge(prefix: str) -> None:
    async with DisposableRedisStore(prefix=prefix):
        pass


def test_one_trace_runs_from_a_request_here_to_a_stream_write_in_another_process(
    servers: Servers,
) -> None:
    with OtlpReceiver() as receiver:
        servers.env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_SERVICE_NAME="orders-worker",
            OTEL_BSP_SCHEDULE_DELAY="50",
        )
        worker = servers.start("--redis-url", redis_url())
        servers.wait_ready(worker)
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        app = Motia(
            project_dir=servers.project,
            redis_url=redis_url(),
            redis_prefix=servers.env["MOTIA_REDIS_PREFIX"],
            tracer_provider=provider,
        )
        # This process only serves HTTP: its queue workers never start, so the message
        # it sends is run by the other process.
        app.runtime.queues.workers.clear()
        trace_id = anyio.run(_post_order, app)

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            names = {span.name for span in receiver.spans if span.trace_id == trace_id}
            if {"step:Record", "stream::set"} <= names:
                break
            time.sleep(0.05)

    here = {span.name: span for span in exporter.get_finished_spans()}
    there = {span.name: span for span in receiver.spans if span.trace_id == trace_id}
    request, enqueue = here["step:Ingest"], here["enqueue"]
    assert f"{request.context.trace_id:032x}" == trace_id
    assert enqueue.parent is not None
    assert enqueue.parent.span_id == request.context.span_id
    record, write = there["step:Record"], there["stream::set"]
    assert record.parent_id == f"{enqueue.context.span_id:016x}"
    assert write.parent_id == record.span_id
    assert record.service == write.service == "orders-worker"


async def _post_order(app: Motia) -> str:
    asgi = app.asgi()
    async with asgi.router.lifespan_context(asgi):
        transport = httpx.ASGITransport(asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/orders", json={"id": "o1"})
    assert response.status_code == 202
    trace_id: str = response.json()["trace"]
    assert response.headers["x-trace-id"] == trace_id
    return trace_id


def test_metrics_add_up_every_workers_counts(servers: Servers, tmp_path: Path) -> None:
    servers.env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    port = servers.start("--workers", "2", "--metrics", "--redis-url", redis_url())
    servers.wait_ready(port)
    pids: list[int] = []
    deadline = time.monotonic() + 30
    while (len(set(pids)) < 2 or len(pids) < 20) and time.monotonic() < deadline:
        # A fresh connection each time, so the kernel may hand it to either worker.
        with httpx.Client() as client:
            pids.append(client.get(f"http://127.0.0.1:{port}/pid").json()["pid"])
    assert len(set(pids)) == 2
    scraped = httpx.get(f"http://127.0.0.1:{port}/__motia/metrics").text
    requests = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "motia_http_requests_total" and sample.labels["step"] == "Pid"
    }
    assert requests == {"200": len(pids)}
