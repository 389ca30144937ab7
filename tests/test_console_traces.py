"""The console's trace waterfall: the app's own spans, bounded, linked to their log lines."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from motia import Motia, StreamConfig, http, queue, step
from motia.console.span_view import SpanView
from motia.settings import Settings

pytestmark = pytest.mark.anyio

API = "/__motia/console/api"


async def ingest(args: Any, ctx: Any) -> dict[str, Any]:
    ctx.logger.info("order accepted")
    await ctx.enqueue({"topic": "order.created", "data": args.request.body})
    return {"status": 202, "body": {}}


async def record(data: Any, ctx: Any) -> None:
    await ctx.streams.orders.set("all", data["id"], data)


STEPS = [
    step({"name": "Ingest", "triggers": [http("POST", "/orders")], "enqueues": ["order.created"]},
         ingest),
    step({"name": "Record", "triggers": [queue("order.created")]}, record),
]  # fmt: skip


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = Motia(
        steps_dir=None,
        steps=STEPS,
        streams=[StreamConfig(name="orders")],
        store="memory",
        settings=Settings(console=True),
        tracer_provider=TracerProvider(),
    )
    asgi = app.asgi()
    async with asgi.router.lifespan_context(asgi):
        transport = httpx.ASGITransport(asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


async def test_a_trace_is_served_as_its_spans_with_their_parents(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/orders", json={"id": "o1"})
    trace_id = response.headers["x-trace-id"]
    with anyio.fail_after(5):
        while True:
            spans = (await client.get(f"{API}/spans/{trace_id}")).json()["spans"]
            if any(span["name"] == "stream::set" for span in spans):
                break
            await anyio.sleep(0.01)
    by_name = {span["name"]: span for span in spans}
    assert by_name["step:Ingest"]["parent_id"] is None
    chain = ["step:Ingest", "enqueue", "step:Record", "stream::set"]
    for parent, child in itertools.pairwise(chain):
        assert by_name[child]["parent_id"] == by_name[parent]["span_id"], child
    assert by_name["step:Record"]["attributes"]["motia.trigger.type"] == "queue"
    assert all(span["end"] >= span["start"] for span in spans)

    (listed,) = [t for t in (await client.get(f"{API}/spans")).json() if t["trace_id"] == trace_id]
    assert listed["root"] == "step:Ingest" and listed["spans"] == len(spans)
    assert listed["errors"] == 0

    logs = (await client.get(f"{API}/logs", params={"trace_id": trace_id})).json()
    accepted = next(line for line in logs if line["msg"] == "order accepted")
    assert accepted["span_id"] == by_name["step:Ingest"]["span_id"]


async def test_the_page_has_a_traces_view_and_its_script() -> None:
    app = Motia(steps_dir=None, steps=STEPS, store="memory", settings=Settings(console=True))
    transport = httpx.ASGITransport(app.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        page = (await client.get("/__motia/console/")).text
        script = await client.get("/__motia/console/static/traces.js")
        style = await client.get("/__motia/console/static/traces.css")
        spans = await client.get(f"{API}/spans")
    assert 'data-view="traces"' in page and "static/traces.js" in page
    assert script.status_code == 200 and "C.views.traces" in script.text
    assert style.status_code == 200
    assert spans.json() == []  # the app does not trace: nothing to draw, nothing fails


def test_the_view_keeps_a_bounded_number_of_traces_and_spans() -> None:
    view = SpanView(max_traces=2, max_spans=3)
    provider = TracerProvider()
    provider.add_span_processor(view)
    tracer = provider.get_tracer("test")
    trace_ids = []
    for _ in range(3):
        with tracer.start_as_current_span("root") as root:
            trace_ids.append(f"{root.get_span_context().trace_id:032x}")
            for _ in range(5):
                with tracer.start_as_current_span("child"):
                    pass
    assert [t["trace_id"] for t in view.recent()] == trace_ids[:0:-1]  # newest first, oldest gone
    assert len(view.spans(trace_ids[2])) == 3
    assert view.spans(trace_ids[0]) == []
