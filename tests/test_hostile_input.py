"""Hostile request bodies through the ASGI app: each gets a short, clear answer."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import Motia, http, step

pytestmark = pytest.mark.anyio


class Measure(BaseModel):
    value: float


@asynccontextmanager
async def serve(*definitions: Any, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = Motia(steps_dir=None, steps=definitions, store="memory", **options).asgi()
    with anyio.fail_after(10):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


def echo(path: str, **trigger: Any) -> Any:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": {"body": args.request.body}}

    return step({"name": path, "triggers": [http("POST", path, **trigger)]}, handler)


JSON = {"content-type": "application/json"}


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
