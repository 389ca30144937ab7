"""``/__motia/metrics``: Prometheus text that moves with requests, subscribers and queues."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families
from stream_server import ServerThread, build_app, join, receive_one, wait_for
from support import motia_process

from motia import Motia, http, queue, step
from motia._core.metrics import forget_dead_workers
from motia.server import share_metrics_between_workers
from motia.settings import Settings

pytestmark = pytest.mark.anyio


async def hello(args: Any, ctx: Any) -> dict[str, Any]:
    return {"status": 200, "body": "hi"}


async def order(args: Any, ctx: Any) -> dict[str, Any]:
    await ctx.enqueue({"topic": "order.created", "data": args.request.body})
    return {"status": 202, "body": {}}


async def record(data: Any, ctx: Any) -> None:
    if data.get("fail"):
        raise RuntimeError("refused")


STEPS = [
    step({"name": "Hello", "triggers": [http("GET", "/hello")]}, hello),
    step({"name": "Order", "triggers": [http("POST", "/orders")], "enqueues": ["order.created"]},
         order),
    step({"name": "Record",
          "triggers": [queue("order.created", config={"maxRetries": 1, "backoffDelayMs": 10})]},
         record),
]  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    app = build_app(tmp_path, steps=STEPS, settings=Settings(metrics=True, heartbeat_interval=0))
    with ServerThread(app) as running:
        yield running


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample by (name, labels), parsed by the client library's own parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> dict[Any, float]:
    response = await client.get("/__motia/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


async def test_requests_are_counted_by_step_method_and_status_and_timed(
    server: ServerThread,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        before = await scrape(client)
        for _ in range(3):
            assert (await client.get("/hello")).status_code == 200
        after = await scrape(client)
    labels = {"step": "Hello", "method": "GET", "status": "200"}
    assert value(before, "motia_http_requests_total", **labels) == 0
    assert value(after, "motia_http_requests_total", **labels) == 3
    timed = value(after, "motia_http_request_duration_seconds_count", step="Hello", method="GET")
    assert timed == 3
    assert value(after, "motia_step_runs_total", step="Hello", trigger="http") == 3


async def test_subscribers_are_counted_by_transport_while_they_stay(server: ServerThread) -> None:
    ws_url = server.ws_url + "/streams"
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=5) as client,
        websockets.connect(ws_url, open_timeout=5, subprotocols=["Authorization", "tok"]) as ws,
    ):
        await ws.send(join("todo", "inbox", "s1"))
        assert (await receive_one(ws))["event"]["type"] == "sync"
        async with client.stream("GET", "/streams/todo/inbox") as sse:
            await anext(sse.aiter_bytes())  # the sync: the subscription is live
            during = await scrape(client)
        await ws.close()
        await wait_for(lambda: not server.motia.runtime.hub.sinks)
        after = await scrape(client)
    assert value(during, "motia_stream_subscribers", transport="websocket") == 1
    assert value(during, "motia_stream_subscribers", transport="sse") == 1
    assert value(during, "motia_stream_connections", transport="websocket") == 1
    assert value(after, "motia_stream_subscribers", transport="websocket") == 0
    assert value(after, "motia_stream_subscribers", transport="sse") == 0


async def test_queue_messages_retries_and_dead_letters_are_counted(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        assert (await client.post("/orders", json={"id": "ok"})).status_code == 202
        assert (await client.post("/orders", json={"fail": True})).status_code == 202
        with anyio.fail_after(5):
            while True:
                found = await scrape(client)
                if value(found, "motia_queue_dead", topic="order.created") == 1:
                    break
                await anyio.sleep(0.02)
    topic = {"topic": "order.created"}
    assert value(found, "motia_step_runs_total", step="Record", trigger="queue") == 3
    assert value(found, "motia_step_errors_total", step="Record", trigger="queue") == 2
    assert value(found, "motia_queue_retried_total", **topic) == 1
    assert value(found, "motia_queue_dead_lettered_total", **topic) == 1
    assert value(found, "motia_queue_depth", **topic) == 0


async def test_the_runtime_counters_are_all_exported(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        found = await scrape(client)
    names = {name for name, _ in found}
    for counter in server.motia.runtime.stats.values():
        exported = f"motia_{counter}" if counter == "open_streams" else f"motia_{counter}_total"
        assert exported in names


async def test_metrics_are_off_unless_asked_for() -> None:
    app = Motia(steps_dir=None, steps=STEPS[:1], store="memory")
    transport = httpx.ASGITransport(app.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/__motia/metrics")).status_code == 404


async def test_only_loopback_clients_scrape_without_the_token() -> None:
    async def status(token: str | None, client: tuple[str, int], **headers: str) -> int:
        settings = Settings(metrics=True, metrics_token=token)
        app = Motia(steps_dir=None, steps=STEPS[:1], store="memory", settings=settings).asgi()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http_client:
                response = await http_client.get("/__motia/metrics", headers=headers)
        if token is None and response.status_code == 403:
            assert "loopback" in response.text
        return response.status_code

    remote, local = ("203.0.113.7", 4000), ("127.0.0.1", 4000)
    assert await status(None, remote) == 403
    assert await status("s3cret", remote) == 401
    assert await status("s3cret", remote, authorization="Bearer nope") == 401
    assert await status("s3cret", remote, authorization="Bearer s3cret") == 200
    assert await status("s3cret", local) == 200
    assert await status(None, local) == 200


async def test_every_metric_the_deployment_guide_lists_is_served(server: ServerThread) -> None:
    guide = (Path(__file__).parent.parent / "docs" / "deployment.md").read_text()
    table = guide[guide.index("| metric | type | labels |") :].split("\n\n")[0]
    listed = set(re.findall(r"`(motia_[a-z_]+)`", table))
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        assert (await client.get("/hello")).status_code == 200
        assert (await client.post("/orders", json={"fail": True})).status_code == 202
        with anyio.fail_after(5):
            while (
                value(found := await scrape(client), "motia_queue_dead", topic="order.created") < 1
            ):
                await anyio.sleep(0.02)
    served = {name.removesuffix("_count") for name, _ in found}
    assert len(listed) > 15
    assert listed <= served, listed - served


async def test_a_scraper_asking_for_openmetrics_gets_it(server: ServerThread) -> None:
    accept = "application/openmetrics-text; version=1.0.0"
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        response = await client.get("/__motia/metrics", headers={"accept": accept})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def test_workers_share_an_emptied_metrics_folder(tmp_path: Path, monkeypatch: Any) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    assert share_metrics_between_workers() == folder
    assert list(folder.iterdir()) == []
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    fresh = share_metrics_between_workers()
    assert fresh.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(fresh)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    fresh.rmdir()


@pytest.mark.slow
def test_motia_start_serves_metrics_with_the_flag(tmp_path: Path) -> None:
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "hello.step.py").write_text(
        "from motia import http\n"
        'config = {"name": "Hello", "triggers": [http("GET", "/hello")]}\n'
        "async def handler(request):\n"
        '    return {"status": 200, "body": "hi"}\n'
    )
    with motia_process("start", tmp_path, "--metrics") as server:
        assert httpx.get(f"{server.url}/hello", timeout=5).status_code == 200
        scraped = samples(httpx.get(f"{server.url}/__motia/metrics", timeout=5).text)
    labels = {"step": "Hello", "method": "GET", "status": "200"}
    assert value(scraped, "motia_http_requests_total", **labels) == 1
    with motia_process("start", tmp_path) as server:
        assert httpx.get(f"{server.url}/__motia/metrics", timeout=5).status_code == 404


def test_a_dead_workers_live_gauges_stop_counting(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    files = [
        tmp_path / f"gauge_livesum_{dead.pid}.db",
        tmp_path / f"counter_{dead.pid}.db",
        tmp_path / f"gauge_livesum_{os.getpid()}.db",
    ]
    for file in files:
        file.write_bytes(b"")
    forget_dead_workers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files[1:])
