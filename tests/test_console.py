"""The dev console: its JSON endpoints, live feeds, recorded runs and the bound on log fan-out."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import Motia, http, queue, step
from motia._runtime.stats import Stats
from motia._sending.event_stream import EventSender
from motia._sending.sender import SendPolicy
from motia.cli import _parser
from motia.console import PREFIX
from motia.console.events import LiveView
from motia.console.examples import example_of
from motia.console.log_feed import LogFeed
from motia.settings import Settings
from motia.sse import SSEParser

pytestmark = pytest.mark.anyio
LOCAL = "http://localhost"  # the console answers to loopback Host names only


class Order(BaseModel):
    item: str
    quantity: int = 1


async def place(args: Any, ctx: Any) -> dict[str, Any]:
    ctx.logger.info("order placed", {"item": args.request.body.item})
    await ctx.state.set("orders", "o1", {"item": args.request.body.item})
    await ctx.enqueue({"topic": "order.placed", "data": {"item": args.request.body.item}})
    return {"status": 201, "body": {"id": "o1"}}


async def ship(data: Any, ctx: Any) -> None:
    ctx.logger.info("order shipped", data)


async def boom(args: Any, ctx: Any) -> None:
    raise RuntimeError("kaput")


STEPS = [
    step(
        {
            "name": "PlaceOrder",
            "description": "Place an order",
            "flows": ["shop"],
            "triggers": [http("POST", "/orders", body_schema=Order)],
            "enqueues": ["order.placed"],
        },
        place,
    ),
    step({"name": "ShipOrder", "flows": ["shop"], "triggers": [queue("order.placed")]}, ship),
    step({"name": "Boom", "triggers": [http("GET", "/boom")]}, boom),
]


def build(console: bool = True) -> Motia:
    settings = Settings(dev=True, console=console)
    return Motia(None, steps=STEPS, store="memory", queue="memory", settings=settings)


@pytest.fixture
async def client() -> Any:
    motia = build()
    app = motia.asgi()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=LOCAL) as client,
    ):
        yield client


async def api(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(f"{PREFIX}/api{path}")
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(check: Any, deadline: float = 5.0) -> Any:
    """Poll ``check`` until it returns something truthy (fails after ``deadline`` seconds)."""
    async with asyncio.timeout(deadline):
        while not (result := await check()):
            await asyncio.sleep(0.02)
    return result


# -- off by default ---------------------------------------------------------------------


async def test_the_console_is_off_unless_enabled() -> None:
    motia = build(console=False)
    assert motia.console is None
    assert all(s.handler in (place, ship, boom) for s in motia.registry.steps)
    app = motia.asgi()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=LOCAL) as c:
        assert (await c.get(PREFIX)).status_code == 404
        assert (await c.get(f"{PREFIX}/api/flows")).status_code == 404


def test_motia_dev_turns_it_on_and_start_only_when_asked() -> None:
    parser = _parser()
    assert parser.parse_args(["dev"]).console is True
    assert parser.parse_args(["dev", "--no-console"]).console is False
    assert parser.parse_args(["start"]).console is False
    assert parser.parse_args(["start", "--console"]).console is True


# -- pages and JSON endpoints -----------------------------------------------------------


async def test_the_page_and_its_assets_are_served_by_the_package(client: httpx.AsyncClient) -> None:
    page = await client.get(PREFIX + "/")
    assert page.status_code == 200
    assert f'data-base="{PREFIX}"' in page.text
    assert "http://" not in page.text.replace('xmlns="http://', "")
    for asset in ("console.css", "core.js", "flows.js", "logs.js", "main.js"):
        response = await client.get(f"{PREFIX}/static/{asset}")
        assert response.status_code == 200, asset
        assert "https://" not in response.text, f"{asset} loads something from the network"


async def test_flows_list_steps_triggers_schemas_and_topic_edges(
    client: httpx.AsyncClient,
) -> None:
    data = await api(client, "/flows")
    shop = next(flow for flow in data["flows"] if flow["name"] == "shop")
    assert shop["steps"] == ["PlaceOrder", "ShipOrder"]
    assert shop["edges"] == [
        {"source": "PlaceOrder", "target": "ShipOrder", "topic": "order.placed",
         "label": None, "virtual": False}
    ]  # fmt: skip
    place_step = data["steps"]["PlaceOrder"]
    assert place_step["kind"] == "http"
    assert place_step["label"] == "POST /orders"
    trigger = place_step["triggers"][0]
    assert trigger["method"] == "POST"
    assert trigger["body_schema"]["required"] == ["item"]
    assert data["steps"]["ShipOrder"]["triggers"][0]["topic"] == "order.placed"


async def test_endpoints_carry_an_example_body_built_from_the_schema(
    client: httpx.AsyncClient,
) -> None:
    endpoints = await api(client, "/endpoints")
    orders = next(e for e in endpoints if e["path"] == "/orders")
    assert orders["method"] == "POST"
    assert orders["example"] == {"item": "item", "quantity": 1}


async def test_state_streams_traces_and_logs_after_a_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"item": "tea"}, headers={"x-trace-id": "t-1"})
    assert response.status_code == 201

    async def shipped() -> Any:
        trace = await api(client, "/traces/t-1")
        return trace if len(trace["runs"]) == 2 and trace["runs"][1]["status"] == "ok" else None

    trace = await eventually(shipped)
    first, second = trace["runs"]
    assert (first["step"], first["status"]) == ("PlaceOrder", "ok")
    assert first["trigger"] == {"type": "http", "index": 0, "path": "/orders", "method": "POST"}
    assert first["result"].startswith("201 ")
    assert (second["step"], second["trigger"]["topic"]) == ("ShipOrder", "order.placed")
    assert all(run["duration_ms"] >= 0 for run in trace["runs"])
    assert [line["msg"] for line in trace["logs"]] == ["order placed", "order shipped"]
    assert await api(client, "/state") == [
        {"group": "orders", "items": [{"id": "o1", "value": {"item": "tea"}}]}
    ]
    lines = await api(client, "/logs")
    assert {"step": "PlaceOrder", "trace_id": "t-1"}.items() <= lines[0].items()


async def test_a_failing_handler_is_recorded_as_an_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"x-trace-id": "t-boom"})
    assert response.status_code == 500
    trace = await api(client, "/traces/t-boom")
    assert trace["runs"][0]["status"] == "error"
    assert trace["runs"][0]["error"] == "RuntimeError: kaput"
    assert trace["logs"][0]["level"] == "error"


async def test_queues_show_topics_and_dead_letters(client: httpx.AsyncClient) -> None:
    data = await api(client, "/queues")
    assert data["available"] is True
    assert data["topics"][0]["topic"] == "order.placed"
    assert data["topics"][0]["subscribers"] == ["ShipOrder"]
    assert data["dead_letters"] == []


async def test_queues_report_no_backend_gracefully() -> None:
    from motia.console.queue_view import queue_overview

    assert await queue_overview(object(), [], []) == {
        "available": False,
        "topics": [],
        "dead_letters": [],
    }


async def test_streams_list_groups_items_and_subscriber_counts() -> None:
    from motia import StreamConfig

    motia = Motia(
        None,
        steps=STEPS,
        streams=[StreamConfig(name="todo")],
        store="memory",
        settings=Settings(console=True),
    )
    app = motia.asgi()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=LOCAL) as client,
    ):
        await motia.runtime.streams.todo.set("inbox", "a", {"title": "x"})
        streams = await api(client, "/streams")
    assert streams == [
        {
            "name": "todo",
            "groups": [
                {"group": "inbox", "items": [{"id": "a", "value": {"id": "a", "title": "x"}}],
                 "subscribers": 0}
            ],
            "subscribers": 0,
        }
    ]  # fmt: skip


async def test_access_lines_stay_out_of_the_logs_tab() -> None:
    settings = Settings(dev=True, console=True, access_log=True)
    motia = Motia(None, steps=STEPS, store="memory", queue="memory", settings=settings)
    app = motia.asgi()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=LOCAL) as client,
    ):
        await client.post("/orders", json={"item": "jam"})
        lines = await api(client, "/logs")
    assert "order placed" in [line["msg"] for line in lines]
    assert not [line for line in lines if line["logger"] == "motia.access"]


# -- live feeds over a real server --------------------------------------------------------


async def read_until(stream: Any, parser: SSEParser, wanted: Any, deadline: float = 5.0) -> list:
    events: list = []
    async with asyncio.timeout(deadline):
        async for chunk in stream:
            events.extend(parser.feed(chunk))
            if wanted(events):
                return events
    raise AssertionError(f"stream ended first: {events}")


async def test_log_lines_and_changes_are_pushed_live(live_server: Any) -> None:
    motia = build()
    async with live_server(motia.asgi()) as url, httpx.AsyncClient(timeout=5) as client:
        async with client.stream("GET", f"{url}{PREFIX}/api/logs/stream") as logs:
            parser, chunks = SSEParser(), logs.aiter_bytes()
            await read_until(chunks, parser, lambda es: any(e.event == "ready" for e in es))
            async with client.stream("GET", f"{url}{PREFIX}/api/changes/stream") as changes:
                change_parser, change_chunks = SSEParser(), changes.aiter_bytes()
                await read_until(change_chunks, change_parser, lambda es: es)
                await client.post(f"{url}/orders", json={"item": "jam"})
                got = await read_until(
                    chunks, parser, lambda es: any("order shipped" in e.data for e in es)
                )
                seen = await read_until(
                    change_chunks, change_parser, lambda es: any(e.event == "change" for e in es)
                )
    assert [e.json()["msg"] for e in got if e.event == "log"] == ["order placed", "order shipped"]
    runs = [e.json() for e in got if e.event == "run"]
    assert [(r["step"], r["status"]) for r in runs][:2] == [
        ("PlaceOrder", "running"),
        ("PlaceOrder", "ok"),
    ]
    change = next(e.json() for e in seen if e.event == "change")
    assert change == {
        "namespace": "state", "group": "orders", "id": "o1", "kind": "create",
        "value": {"item": "jam"}, "version": change["version"],
    }  # fmt: skip


# -- the bound on live views: a slow page is ended, the app never waits ------------------


class Page:
    """A page's ASGI send: records bodies, or never finishes one (``stalled``)."""

    def __init__(self, stalled: bool = False) -> None:
        self.bodies: list[bytes] = []
        self.stalled = stalled

    async def __call__(self, message: Any) -> None:
        if self.stalled:
            await asyncio.Event().wait()
        self.bodies.append(message["body"])


def open_page(view: LiveView, page: Page, limit: int = 1 << 20) -> tuple[EventSender, Stats]:
    stats = Stats()
    stopped: list[bool] = []
    sender = EventSender(SendPolicy(limit, stats), lambda: stopped.append(True), page)
    view.senders.add(sender)
    return sender, stats


async def test_a_slow_page_is_ended_and_the_logger_never_blocks() -> None:
    view = LiveView()
    view.start()
    feed = LogFeed(view, history=100)
    logger = logging.getLogger("motia.test.console")
    logger.addHandler(feed)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    stalled, stats = open_page(view, Page(stalled=True), limit=50_000)
    try:
        started = time.perf_counter()
        for n in range(20_000):
            logger.info("line %d", n, extra={"step": "S", "trace_id": "t"})
            if n % 1000 == 0:
                await asyncio.sleep(0)  # the send batch runs: the page's send never finishes
        elapsed = time.perf_counter() - started
    finally:
        logger.removeHandler(feed)
    assert stalled.closed and stats.slow_closes == 1
    assert len(feed.lines) == 100
    assert '"msg":"line 19999"' in feed.recent()[-1]
    assert elapsed < 5.0


async def test_frames_published_from_worker_threads_reach_a_page() -> None:
    view = LiveView()
    view.start()
    page = Page()
    open_page(view, page)
    threads = [
        threading.Thread(target=view.publish, args=(b"data: %d\n\n" % n,)) for n in range(25)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    with anyio.fail_after(2):
        while b"".join(page.bodies).count(b"data: ") < 25:
            await asyncio.sleep(0.01)
    frames = b"".join(page.bodies).split(b"\n\n")[:-1]
    assert sorted(frames) == sorted(b"data: %d" % n for n in range(25))


async def test_shutdown_ends_every_page() -> None:
    view = LiveView()
    view.start()
    sender, _ = open_page(view, Page())
    view.shutdown()
    assert sender.closed


# -- example bodies -----------------------------------------------------------------------


def test_examples_follow_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name"},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"enum": ["a", "b"]},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "child": {"$ref": "#/$defs/Child"},
        },
        "$defs": {"Child": {"type": "object", "properties": {"ok": {"type": "boolean"}}}},
    }
    assert example_of(schema) == {
        "name": "name",
        "email": "user@example.com",
        "age": 18,
        "tags": ["text"],
        "kind": "a",
        "note": None,
        "child": {"ok": True},
    }
    assert example_of(None) is None


# -- recorded runs ------------------------------------------------------------------------


async def test_runs_of_sync_handlers_are_recorded_with_their_trigger() -> None:
    def hello(args: Any) -> dict[str, Any]:  # sync, one argument: runs in a worker thread
        return {"status": 200, "body": {"ok": True}}

    definition = step({"name": "SyncHello", "triggers": [http("GET", "/sync")]}, hello)
    motia = Motia(None, steps=[definition], store="memory", settings=Settings(console=True))
    assert motia.registry.steps[0].handler is not hello
    motia.routes()  # building routes again wraps nothing twice
    app = motia.asgi()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=LOCAL) as client,
    ):
        response = await client.get("/sync", headers={"x-trace-id": "t-sync"})
        trace = await api(client, "/traces/t-sync")
    assert response.json() == {"ok": True}
    [run] = trace["runs"]
    assert (run["step"], run["status"], run["trigger"]["method"]) == ("SyncHello", "ok", "GET")
    assert run["result"] == '200 {"status":200,"body":{"ok":true}}'


def test_the_log_history_outlives_a_reload_of_the_same_dev_server(tmp_path: Any) -> None:
    import json
    import os
    import stat

    from motia.console.log_history import load_history, save_history

    path = tmp_path / ".motia" / "console-log.jsonl"
    before = LogFeed(LiveView())
    for message in ("first", "second"):
        before.emit(logging.makeLogRecord({"name": "motia", "levelname": "ERROR", "msg": message}))
    save_history(before, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    after = LogFeed(LiveView())
    load_history(after, path)
    after.emit(logging.makeLogRecord({"name": "motia", "levelname": "INFO", "msg": "third"}))
    entries = [json.loads(line) for line in after.recent()]
    assert [e["msg"] for e in entries][:2] == ["first", "second"]
    assert "app restarted" in entries[2]["msg"] and entries[3]["msg"] == "third"
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]

    _header, *lines = path.read_text().splitlines()
    path.write_text(json.dumps({"supervisor": os.getppid() + 1}) + "\n" + "\n".join(lines))
    another_server = LogFeed(LiveView())
    load_history(another_server, path)
    assert another_server.recent() == []
