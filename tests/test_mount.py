"""``Motia.mount``: steps, stream endpoints and the runtime inside a Starlette or FastAPI app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import websockets
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from motia import Motia, StreamConfig, http, queue, step
from motia._http.mounting import prefixed
from motia.sse import SSEParser

pytestmark = pytest.mark.anyio

LiveServer = Callable[[Any], AbstractAsyncContextManager[str]]


class Item(BaseModel):
    id: str
    text: str


async def add_item(args: Any, ctx: Any) -> Any:
    item_id = args.request.path_params["id"]
    item = {"id": item_id, "text": args.request.body["text"]}
    item = await ctx.streams.items.set("inbox", item_id, item)
    await ctx.enqueue({"topic": "item.added", "data": item})
    return {"status": 201, "body": item}


async def count_item(data: Any, ctx: Any) -> None:
    await ctx.state.update("stats", "items", [{"type": "increment", "path": "count", "by": 1}])


def build_motia() -> Motia:
    """Steps and a stream given as Python objects, no steps folder."""
    return Motia(
        steps_dir=None,
        steps=[
            step(
                {
                    "name": "AddItem",
                    "triggers": [http("POST", "/items/:id")],
                    "enqueues": ["item.added"],
                },
                add_item,
            ),
            step({"name": "CountItem", "triggers": [queue("item.added")]}, count_item),
        ],
        streams=[StreamConfig(name="items", schema=Item)],
        store="memory",
    )


class Journal:
    """What happened, in order, across the host's lifespan and the runtime's."""

    def __init__(self, motia: Motia) -> None:
        self.motia = motia
        self.entries: list[str] = []

    def note(self, entry: str) -> None:
        running = "running" if self.motia.runtime.started else "stopped"
        self.entries.append(f"{entry} (runtime {running})")

    def lifespan(self) -> Callable[[Any], AbstractAsyncContextManager[dict[str, Any]]]:
        @asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
            self.note("host startup")
            yield {"greeting": "hello from the host"}
            self.note("host shutdown")

        return lifespan


async def own_route(request: Request) -> JSONResponse:
    return JSONResponse({"greeting": request.state.greeting})


async def wait_for_count(client: httpx.AsyncClient, base: str, expected: int) -> None:
    with anyio.fail_after(5):
        while (await client.get(f"{base}/count")).json() != {"count": expected}:
            await anyio.sleep(0.02)


def count_route(motia: Motia) -> Callable[[Request], Any]:
    async def count(request: Request) -> JSONResponse:
        stats = await motia.runtime.state.get("stats", "items")
        return JSONResponse({"count": (stats or {}).get("count", 0)})

    return count


async def test_starlette_host_runs_the_runtime_inside_its_lifespan(
    live_server: LiveServer,
) -> None:
    motia = build_motia()
    journal = Journal(motia)
    host = Starlette(routes=[Route("/own", own_route)], lifespan=journal.lifespan())
    host.add_route("/count", count_route(motia))
    motia.mount(host, prefix="/api")
    async with live_server(host) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        journal.note("serving")
        created = await client.post("/api/items/a", json={"text": "one"})
        assert created.status_code == 201
        assert created.json() == {"id": "a", "text": "one"}
        await wait_for_count(client, "", 1)
        assert (await client.get("/own")).json() == {"greeting": "hello from the host"}
    journal.note("stopped")
    assert journal.entries == [
        "host startup (runtime stopped)",
        "serving (runtime running)",
        "host shutdown (runtime stopped)",
        "stopped (runtime stopped)",
    ]


async def test_fastapi_lifespan_argument_is_kept(live_server: LiveServer) -> None:
    motia = build_motia()
    journal = Journal(motia)
    host = FastAPI(lifespan=journal.lifespan())

    @host.get("/own")
    async def own(request: Request) -> dict[str, str]:
        return {"greeting": request.state.greeting}

    host.add_api_route("/count", count_route(motia))
    motia.mount(host, prefix="/api")
    async with live_server(host) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        journal.note("serving")
        assert (await client.post("/api/items/b", json={"text": "two"})).status_code == 201
        await wait_for_count(client, "", 1)
        assert (await client.get("/own")).json() == {"greeting": "hello from the host"}
    assert journal.entries == [
        "host startup (runtime stopped)",
        "serving (runtime running)",
        "host shutdown (runtime stopped)",
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_fastapi_startup_handlers_still_run(live_server: LiveServer) -> None:
    motia = build_motia()
    journal = Journal(motia)
    host = FastAPI()
    motia.mount(host, prefix="/api")

    @host.on_event("startup")
    async def startup() -> None:
        journal.note("on_startup")

    @host.on_event("shutdown")
    async def shutdown() -> None:
        journal.note("on_shutdown")

    async with live_server(host) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        assert (await client.post("/api/items/c", json={"text": "x"})).status_code == 201
    assert journal.entries == ["on_startup (runtime stopped)", "on_shutdown (runtime stopped)"]


async def test_stream_endpoints_answer_under_the_prefix(live_server: LiveServer) -> None:
    motia = build_motia()
    host = FastAPI()
    motia.mount(host, prefix="/api")
    async with (
        live_server(host) as url,
        httpx.AsyncClient(base_url=url, timeout=5) as client,
        client.stream("GET", "/api/streams/items/inbox") as events,
    ):
        assert events.headers["content-type"].startswith("text/event-stream")
        parser, received = SSEParser(), []
        chunks = events.aiter_bytes()
        with anyio.fail_after(5):
            while not received:
                received.extend(parser.feed(await chunks.__anext__()))
            await client.post("/api/items/d", json={"text": "live"})
            while len(received) < 2:
                received.extend(parser.feed(await chunks.__anext__()))
    assert [event.event for event in received[:2]] == ["sync", "create"]
    assert received[1].json()["event"]["data"] == {"id": "d", "text": "live"}


async def test_websocket_endpoint_answers_under_the_prefix(live_server: LiveServer) -> None:
    motia = build_motia()
    host = Starlette()
    motia.mount(host, prefix="/api")
    subscription = {"streamName": "items", "groupId": "inbox", "subscriptionId": "s1"}
    join = {"type": "join", "data": subscription}
    async with live_server(host) as url:
        ws_url = url.replace("http://", "ws://")
        for path in ("/api", "/api/streams"):
            with anyio.fail_after(5):
                async with websockets.connect(ws_url + path) as socket:
                    await socket.send(json.dumps(join))
                    message = json.loads(await socket.recv())
            assert message["event"] == {"type": "sync", "data": []}


async def test_host_routes_next_to_the_prefix_still_match(live_server: LiveServer) -> None:
    motia = build_motia()
    host = FastAPI()
    motia.mount(host, prefix="/api/")

    @host.get("/api/health")  # added after mount, same prefix
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    async with live_server(host) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        assert (await client.get("/api/health")).json() == {"status": "ok"}
        assert (await client.get("/api/nothing")).status_code == 404
        assert (await client.get("/api/items/x")).status_code == 405
        assert (await client.post("/api/items/x", json={"text": "t"})).status_code == 201


async def test_mount_at_the_root(live_server: LiveServer) -> None:
    motia = build_motia()
    host = Starlette()
    motia.mount(host)
    async with live_server(host) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        assert (await client.post("/items/y", json={"text": "root"})).status_code == 201
        spec = (await client.get("/openapi.json")).json()
    assert "servers" not in spec
    assert list(spec["paths"]) == ["/items/{id}"]


def test_prefix_must_be_absolute() -> None:
    with pytest.raises(ValueError, match='prefix must start with "/"'):
        build_motia().mount(Starlette(), prefix="api")


def test_prefixed_keeps_other_route_kinds_under_a_mount() -> None:
    inner = Starlette()
    route = prefixed(Route("/x", own_route), "/p")
    assert getattr(route, "path", None) == "/p/x"
    assert getattr(prefixed(route, ""), "path", None) == "/p/x"
    mounted = prefixed(Mount("/inner", app=inner), "/p")
    assert isinstance(mounted, Mount) and mounted.path == "/p"
