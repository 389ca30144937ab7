"""Hostile request bodies through the ASGI app: each gets a short, clear answer."""

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import Motia, Settings, http, step
from motia._http.read_deadlines import ReadDeadlines
from motia._http.request import decode_headers

pytestmark = pytest.mark.anyio


class Measure(BaseModel):
    value: float


@asynccontextmanager
async def serve(*definitions: Any, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(*definitions, **options) as (client, _):
        yield client


@asynccontextmanager
async def serve_app(
    *definitions: Any, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Motia]]:
    motia = Motia(steps_dir=None, steps=definitions, store="memory", settings=Settings(**settings))
    app = motia.asgi()
    with anyio.fail_after(10):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client, motia


def echo(path: str, **trigger: Any) -> Any:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": {"body": args.request.body}}

    return step({"name": path, "triggers": [http("POST", path, **trigger)]}, handler)


JSON = {"content-type": "application/json"}


def limits_hit(motia: Motia) -> dict[str, int]:
    """The limits refused requests passed, and how often."""
    counts = motia.runtime.stats.values().items()
    return {name[4:]: n for name, n in counts if name.startswith("hit_") and n}


class Todo(BaseModel):
    description: str


def recording(path: str, calls: list[Any], **trigger: Any) -> Any:
    async def handler(args: Any) -> Any:
        calls.append(args.request.body)
        return {"status": 201, "body": {"ok": True}}

    return step({"name": path, "triggers": [http("POST", path, **trigger)]}, handler)


@pytest.mark.parametrize(
    "headers, content",
    [
        ({"content-type": "application/x-www-form-urlencoded"}, b"description=x"),
        ({"content-type": "text/plain"}, b'{"description": "x"}'),
        ({}, b'{"description": "x"}'),
    ],
)
@pytest.mark.parametrize("schema", [Todo, {"type": "object", "required": ["description"]}])
async def test_a_step_with_a_body_schema_takes_json_only(
    headers: dict[str, str], content: bytes, schema: Any
) -> None:
    calls: list[Any] = []
    async with serve(recording("/todo", calls, body_schema=schema)) as client:
        response = await client.post("/todo", content=content, headers=headers)
    assert response.status_code == 415
    assert "this step takes application/json" in response.json()["error"]
    assert calls == []


@pytest.mark.parametrize("media", ["application/json; charset=utf-8", "application/merge+json"])
async def test_json_media_types_reach_a_schema_step(media: str) -> None:
    calls: list[Any] = []
    async with serve(recording("/todo", calls, body_schema=Todo)) as client:
        response = await client.post(
            "/todo", content=b'{"description":"x"}', headers={"content-type": media}
        )
    assert (response.status_code, calls) == (201, [Todo(description="x")])


async def test_a_step_without_schema_still_reads_json_sent_without_a_content_type() -> None:
    calls: list[Any] = []
    async with serve(recording("/free", calls)) as client:
        await client.post("/free", content=b'{"a": 1}')
        await client.post("/free", content=b"not json")
    assert calls == [{"a": 1}, None]


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_a_form_is_parsed_when_the_handler_reads_it() -> None:
    calls: list[Any] = []
    large = "&".join(f"k{i}=%41{'b' * 100}" for i in range(900))  # decoded off the loop
    async with serve(recording("/form", calls)) as client:
        await client.post("/form", content=b"a=1&b=2&b=3&c=%C3%A9+x", headers=FORM)
        await client.post("/form", content=large.encode(), headers=FORM)
    assert calls[0] == {"a": "1", "b": ["2", "3"], "c": "é x"}
    assert len(calls[1]) == 900 and calls[1]["k899"] == "A" + "b" * 100


async def test_a_form_with_too_many_fields_is_refused_when_read_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[Any] = []
    body = b"a=v&" * 2000
    async with serve_app(recording("/form", calls), max_form_fields=1000) as (client, motia):
        response = await client.post("/form", content=body, headers=FORM)
    assert response.status_code == 413
    assert response.json()["error"] == "Too many form fields"
    assert response.json()["limit"] == 1000
    assert limits_hit(motia) == {"max_form_fields": 1}
    assert "max_form_fields=1000" in caplog.text


async def test_a_form_the_handler_never_reads_never_refuses_the_request() -> None:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": {"size": len(await args.request.request_body.read_all())}}

    unread = step({"name": "u", "triggers": [http("POST", "/u")]}, handler)
    small, large = b"a=v&" * 10, b"a=v&" * 100_000  # decoded when read, before the handler
    async with serve_app(unread, max_form_fields=5) as (client, motia):
        for body in (small, large):
            response = await client.post("/u", content=body, headers=FORM)
            assert response.json() == {"size": len(body)}
    assert limits_hit(motia) == {}


@pytest.mark.parametrize(
    "headers, limit",
    [
        ([("x-a", "v")] * 101, "max_headers"),
        ([("x-big", "v" * 70_000)], "max_header_size"),
    ],
)
async def test_too_many_or_too_large_headers_get_431(
    headers: list[tuple[str, str]], limit: str
) -> None:
    calls: list[Any] = []
    async with serve_app(recording("/h", calls)) as (client, motia):
        response = await client.post("/h", headers=headers)
    assert response.status_code == 431
    assert response.json()["error"] == "Request header fields too large"
    assert limits_hit(motia) == {limit: 1}
    assert calls == []


def test_repeated_headers_are_joined_once() -> None:
    raw = [(b"x-a", b"1"), (b"cookie", b"a=1"), (b"x-a", b"2"), (b"cookie", b"b=2")] * 3
    lots = Settings(max_headers=10_000)
    assert decode_headers(raw, lots) == {
        "x-a": "1, 2, 1, 2, 1, 2",
        "cookie": "a=1; b=2; " * 2 + "a=1; b=2",
    }


async def test_bodies_in_progress_share_one_budget() -> None:
    entered, release = anyio.Event(), anyio.Event()

    async def handler(args: Any) -> Any:
        entered.set()
        await release.wait()
        return {"status": 200, "body": {}}

    holding = step({"name": "hold", "triggers": [http("POST", "/hold")]}, handler)
    async with serve_app(holding, max_body_memory=1000) as (client, motia):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(functools.partial(client.post, "/hold", content=b"x" * 600))
            await entered.wait()
            refused = await client.post("/hold", content=b"x" * 600)
            assert motia.runtime.body_budget.held == 600
            release.set()
        accepted = await client.post("/hold", content=b"x" * 600)
        assert motia.runtime.body_budget.held == 0
    assert refused.status_code == 503
    assert refused.json()["error"] == "Server busy: too many request bodies in progress"
    assert accepted.status_code == 200
    assert limits_hit(motia) == {"max_body_memory": 1}


async def test_a_body_that_stops_arriving_gets_408() -> None:
    calls: list[Any] = []
    motia = Motia(
        steps_dir=None,
        steps=[recording("/slow", calls)],
        store="memory",
        settings=Settings(body_timeout=0.2),
    )
    sent: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"{", "more_body": True}
        await anyio.sleep(30)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/slow",
        "query_string": b"",
        "headers": [(b"content-length", b"10")],
        "http_version": "1.1",
    }
    with anyio.fail_after(5):
        await motia.asgi()(scope, receive, send)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"] == "Request body timed out"
    assert limits_hit(motia) == {"body_timeout": 1}
    assert motia.runtime.body_budget.held == 0


@pytest.mark.parametrize("raw", [b'{"value": NaN}', b'{"value": Infinity}', b'{"value": 1e999}'])
@pytest.mark.parametrize("schema", [None, Measure, {"type": "object"}])
async def test_numbers_json_cannot_carry_are_refused_not_echoed(raw: bytes, schema: Any) -> None:
    async with serve(echo("/m", body_schema=schema)) as client:
        response = await client.post("/m", content=raw, headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"].startswith("request body is not valid JSON")


async def test_a_huge_invalid_value_gets_a_short_error() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}}
    body = {"name": "x" * 1_000_000, "items": [0] * 10}
    items_schema = {**schema, "additionalProperties": {"type": "string"}}
    async with serve(echo("/s", body_schema=items_schema)) as client:
        response = await client.post("/s", json=body)
    assert response.status_code == 400
    assert len(response.content) < 2000
    errors = response.json()["errors"]
    assert errors[0]["path"] == "items" or errors[0]["path"] == "name"
    assert any(e["message"].endswith("characters)") for e in errors)


async def test_many_invalid_items_are_summed_up_after_the_first_twenty() -> None:
    class Numbers(BaseModel):
        values: list[int]

    async with serve(echo("/n", body_schema=Numbers)) as client:
        body = json.dumps({"values": ["x"] * 10_000})
        response = await client.post("/n", content=body, headers=JSON)
    errors = response.json()["errors"]
    assert (response.status_code, len(errors)) == (400, 21)
    assert errors[-1]["message"] == "and more errors (only the first 20 are listed)"


async def test_read_deadlines_give_up_on_late_reads_only() -> None:
    deadlines = ReadDeadlines(0.1)
    never = anyio.Event()

    async def read() -> None:
        await never.wait()

    async def prompt() -> None:
        await anyio.sleep(0)

    late, quick = asyncio.ensure_future(read()), asyncio.ensure_future(prompt())
    deadlines.begin(late)
    deadlines.begin(quick)
    await quick
    assert deadlines.end(quick) is False
    with anyio.fail_after(2):
        with pytest.raises(asyncio.CancelledError):
            await late
    assert deadlines.end(late) is True
