"""The example, served by a real uvicorn server: own routes, steps, queue, stream, OpenAPI."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
import uvicorn
from main import create_app
from openapi_spec_validator import validate

from motia.sse import SSEParser

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def serving() -> AsyncIterator[httpx.AsyncClient]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(store="memory"), port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    try:
        with anyio.fail_after(10):
            while not server.started:
                await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            yield client
    finally:
        server.should_exit = True
        with anyio.fail_after(15):
            await task


async def test_own_routes_and_steps_side_by_side() -> None:
    async with serving() as client:
        assert (await client.get("/health")).json() == {"status": "ok", "steps": 3}
        created = await client.post("/api/todos", json={"title": "Write the docs"})
        assert created.status_code == 201
        todo = created.json()
        assert todo["title"] == "Write the docs" and todo["done"] is False
        fetched = await client.get(f"/api/todos/{todo['id']}")
        assert fetched.json() == todo
        assert (await client.get("/api/todos/nope")).status_code == 404


async def test_the_queue_step_runs_inside_the_app() -> None:
    async with serving() as client:
        for title in ("one", "two"):
            await client.post("/api/todos", json={"title": title})
        with anyio.fail_after(5):
            while (await client.get("/stats")).json() != {"created": 2}:
                await anyio.sleep(0.02)


async def test_invalid_body_is_refused_with_field_errors() -> None:
    async with serving() as client:
        response = await client.post("/api/todos", json={"name": "no title"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "title"


async def test_the_todo_stream_is_live() -> None:
    async with (
        serving() as client,
        client.stream("GET", "/api/streams/todo/all") as events,
    ):
        parser, received = SSEParser(), []
        chunks = events.aiter_bytes()
        with anyio.fail_after(5):
            while not received:
                received.extend(parser.feed(await chunks.__anext__()))
            await client.post("/api/todos", json={"title": "watched"})
            while len(received) < 2:
                received.extend(parser.feed(await chunks.__anext__()))
    assert [event.event for event in received[:2]] == ["sync", "create"]
    assert received[1].json()["event"]["data"]["title"] == "watched"


async def test_openapi_documents_the_steps() -> None:
    async with serving() as client:
        spec = (await client.get("/api/openapi.json")).json()
    validate(spec)
    assert spec["servers"] == [{"url": "/api"}]
    assert sorted(spec["paths"]) == ["/todos", "/todos/{id}"]
    assert spec["paths"]["/todos/{id}"]["get"]["operationId"] == "GetTodo"
