"""The OpenAPI document: built from HTTP triggers, valid, served, printed by the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import anyio
import httpx
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.routing import Mount
from support import REPO

from motia import BuildError, Motia, http, queue, step

pytestmark = pytest.mark.anyio

T = TypeVar("T")


class Address(BaseModel):
    city: str


class Person(BaseModel):
    name: str = Field(description="Full name")
    address: Address


class Page(BaseModel, Generic[T]):
    items: list[T]


class Node(BaseModel):
    value: int
    children: list[Node] = []


async def ok(args: Any) -> Any:
    return {"status": 200, "body": {}}


def document(*definitions: Any) -> dict[str, Any]:
    spec = Motia(steps_dir=None, steps=definitions, store="memory").openapi()
    validate(spec)
    return spec


def http_step(name: str, *triggers: Any, **config: Any) -> Any:
    return step({"name": name, "triggers": list(triggers), **config}, ok)


def test_demo_steps_give_a_valid_document() -> None:
    spec = Motia("steps", project_dir=REPO, store="memory").openapi()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    hello = spec["paths"]["/hello/{name}"]["get"]
    assert hello["operationId"] == "Hello"
    assert hello["parameters"] == [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    body = spec["paths"]["/todo"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/NewTodo"}
    assert "description" in spec["components"]["schemas"]["NewTodo"]["properties"]


def test_operation_from_step_config() -> None:
    spec = document(
        http_step(
            "GetTodo",
            http(
                "GET",
                "/todo/:id",
                query_params=[{"name": "expand", "description": "Include details"}],
            ),
            description="Fetch one todo",
            flows=["todo", "read"],
        )
    )
    operation = spec["paths"]["/todo/{id}"]["get"]
    assert operation["operationId"] == "GetTodo"
    assert operation["summary"] == "GetTodo"
    assert operation["description"] == "Fetch one todo"
    assert operation["tags"] == ["todo", "read"]
    assert operation["parameters"] == [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {
            "name": "expand",
            "in": "query",
            "description": "Include details",
            "required": False,
            "schema": {"type": "string"},
        },
    ]
    assert spec["tags"] == [{"name": "read"}, {"name": "todo"}]
    assert "requestBody" not in operation


def test_query_params_given_as_names_or_dicts() -> None:
    params = ["page", {"name": "q", "required": True}]
    spec = document(http_step("Search", http("GET", "/search", query_params=params)))
    parameters = spec["paths"]["/search"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in parameters] == [("page", False), ("q", True)]


def test_malformed_query_params_fail_the_build() -> None:
    with pytest.raises(BuildError, match="query_params must be a list of names"):
        document(http_step("Search", http("GET", "/search", query_params=[42])))


def test_a_model_without_json_schema_is_described_not_fatal() -> None:
    class Opaque:
        pass

    class Holder(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        thing: Opaque

    spec = document(http_step("Hold", http("POST", "/hold", body_schema=Holder)))
    body = spec["paths"]["/hold"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["description"].startswith("Holder has no JSON Schema")


def test_both_path_spellings_become_path_parameters() -> None:
    spec = document(http_step("Item", http("GET", "/items/{item_id}/notes/:note_id")))
    parameters = spec["paths"]["/items/{item_id}/notes/{note_id}"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [
        ("item_id", "path", True),
        ("note_id", "path", True),
    ]


def test_pydantic_defs_move_to_components_with_refs_rewritten() -> None:
    spec = document(http_step("AddPerson", http("POST", "/people", body_schema=Person)))
    body = spec["paths"]["/people"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Person"}
    schemas = spec["components"]["schemas"]
    assert schemas["Person"]["properties"]["address"] == {"$ref": "#/components/schemas/Address"}
    assert schemas["Address"]["properties"]["city"]["type"] == "string"
    assert "$defs" not in json.dumps(spec)


def test_json_schema_dict_is_kept_inline() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    spec = document(http_step("Count", http("POST", "/count", body_schema=schema)))
    body = spec["paths"]["/count"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == schema


def test_json_schema_dict_defs_are_hoisted_too() -> None:
    schema = {
        "type": "object",
        "properties": {"tag": {"$ref": "#/$defs/Tag"}},
        "$defs": {"Tag": {"type": "string", "maxLength": 10}},
    }
    spec = document(http_step("Tagged", http("POST", "/tagged", body_schema=schema)))
    body = spec["paths"]["/tagged"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["tag"] == {"$ref": "#/components/schemas/Tag"}
    assert spec["components"]["schemas"]["Tag"] == {"type": "string", "maxLength": 10}


def test_response_schema_by_status() -> None:
    missing = {"type": "object", "properties": {"error": {"type": "string"}}}
    trigger = http("GET", "/people/:id", response_schema={200: Person, 404: missing})
    spec = document(http_step("GetPerson", trigger))
    responses = spec["paths"]["/people/{id}"]["get"]["responses"]
    assert responses["200"] == {
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}},
    }
    assert responses["404"]["description"] == "Not Found"
    assert responses["404"]["content"]["application/json"]["schema"] == missing
    assert responses["default"] == {"description": "The step's response"}


def test_error_responses_are_documented() -> None:
    plain = http("GET", "/plain")
    guarded = http("POST", "/guarded", condition=lambda args, ctx: True)
    spec = document(http_step("Plain", plain), http_step("Guarded", guarded))
    plain_responses = spec["paths"]["/plain"]["get"]["responses"]
    guarded_responses = spec["paths"]["/guarded"]["post"]["responses"]
    assert plain_responses["400"] == {"$ref": "#/components/responses/BadRequest"}
    assert plain_responses["413"] == {"$ref": "#/components/responses/PayloadTooLarge"}
    assert plain_responses["500"] == {"$ref": "#/components/responses/InternalServerError"}
    assert "422" not in plain_responses
    assert guarded_responses["422"] == {"$ref": "#/components/responses/ConditionNotMet"}
    schemas = spec["components"]["schemas"]
    assert schemas["ValidationError"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/FieldError"
    }
    assert schemas["BodyTooLarge"]["required"] == ["error", "limit"]


def test_a_declared_status_wins_over_the_runtime_default() -> None:
    custom = {"type": "object", "properties": {"reason": {"type": "string"}}}
    spec = document(http_step("Custom", http("POST", "/c", response_schema={400: custom})))
    response = spec["paths"]["/c"]["post"]["responses"]["400"]
    assert response["content"]["application/json"]["schema"] == custom


def test_same_model_name_twice_gets_a_second_name() -> None:
    class Address(BaseModel):  # another model, same name as the module-level one
        line: str

    first = http_step("A", http("POST", "/a", body_schema=Person))
    second = http_step("B", http("POST", "/b", body_schema=Address))
    spec = document(first, second)
    schemas = spec["components"]["schemas"]
    assert spec["paths"]["/b"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Address2"
    }
    assert set(schemas["Address"]["properties"]) == {"city"}
    assert set(schemas["Address2"]["properties"]) == {"line"}


def test_same_model_used_twice_is_defined_once() -> None:
    first = http_step("A", http("POST", "/a", body_schema=Person))
    second = http_step("B", http("PUT", "/b", body_schema=Person))
    schemas = document(first, second)["components"]["schemas"]
    assert "Person2" not in schemas and "Address2" not in schemas


def test_generic_and_recursive_models() -> None:
    spec = document(
        http_step("Pages", http("POST", "/pages", body_schema=Page[Address])),
        http_step("Tree", http("POST", "/tree", body_schema=Node)),
    )
    pages = spec["paths"]["/pages"]["post"]["requestBody"]["content"]["application/json"]
    assert pages["schema"] == {"$ref": "#/components/schemas/Page_Address_"}
    tree = spec["paths"]["/tree"]["post"]["requestBody"]["content"]["application/json"]
    assert tree["schema"] == {"$ref": "#/components/schemas/Node"}
    children = spec["components"]["schemas"]["Node"]["properties"]["children"]
    assert children["items"] == {"$ref": "#/components/schemas/Node"}


def test_a_step_with_several_http_triggers_has_distinct_operation_ids() -> None:
    spec = document(
        http_step("Todos", http("GET", "/todos"), queue("todo.refresh"), http("POST", "/todos"))
    )
    operations = spec["paths"]["/todos"]
    assert operations["get"]["operationId"] == "Todos"
    assert operations["post"]["operationId"] == "Todos_2"


def test_only_http_triggers_are_described() -> None:
    spec = document(http_step("Worker", queue("jobs")))
    assert spec["paths"] == {}


@asynccontextmanager
async def client_for(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    with anyio.fail_after(10):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


async def test_served_at_openapi_json() -> None:
    motia = Motia(steps_dir=None, steps=[http_step("Ping", http("GET", "/ping"))], store="memory")
    async with client_for(motia.asgi()) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == motia.openapi()


async def test_served_under_a_mount_prefix_names_the_server() -> None:
    motia = Motia(steps_dir=None, steps=[http_step("Ping", http("GET", "/ping"))], store="memory")
    host = Starlette()
    motia.mount(host, prefix="/api")
    async with client_for(host) as client:
        spec = (await client.get("/api/openapi.json")).json()
        ping = await client.get("/api/ping")
    assert spec["servers"] == [{"url": "/api"}]
    assert list(spec["paths"]) == ["/ping"]
    assert ping.status_code == 200


async def test_served_from_a_starlette_mount_names_the_server() -> None:
    motia = Motia(steps_dir=None, steps=[http_step("Ping", http("GET", "/ping"))], store="memory")
    host = Starlette(routes=[Mount("/sub", app=motia.asgi())])
    async with client_for(host) as client:
        spec = (await client.get("/sub/openapi.json")).json()
    assert spec["servers"] == [{"url": "/sub"}]


async def test_openapi_url_none_serves_nothing() -> None:
    motia = Motia(steps_dir=None, steps=[http_step("Ping", http("GET", "/ping"))], store="memory")
    motia.openapi_url = None
    async with client_for(motia.asgi()) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 404


async def test_a_step_route_wins_over_the_document() -> None:
    async def mine(args: Any) -> Any:
        return {"status": 200, "body": {"mine": True}}

    own = step({"name": "Own", "triggers": [http("GET", "/openapi.json")]}, mine)
    motia = Motia(steps_dir=None, steps=[own], store="memory")
    async with client_for(motia.asgi()) as client:
        response = await client.get("/openapi.json")
    assert response.json() == {"mine": True}


@pytest.mark.slow
def test_cli_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "motia", "openapi", "--dir", "steps", "--title", "Demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    spec = json.loads(result.stdout)
    validate(spec)
    assert spec["info"] == {"title": "Demo", "version": "0.1.0"}
    assert "/hello/{name}" in spec["paths"]


async def sse_handler(args: Any, ctx: Any) -> None:
    await args.response.status(200)
    await args.response.headers({"content-type": "text/event-stream"})
    args.response.close()


def test_streaming_routes_answer_text_event_stream() -> None:
    spec = document(
        step({"name": "Progress", "triggers": [http("POST", "/progress")]}, sse_handler),
        http_step("Ticks", http("GET", "/ticks", heartbeat_interval=5)),
        http_step("Plain", http("GET", "/plain")),
    )
    for path, method in (("/progress", "post"), ("/ticks", "get")):
        ok_response = spec["paths"][path][method]["responses"]["200"]
        assert list(ok_response["content"]) == ["text/event-stream"]
    assert "200" not in spec["paths"]["/plain"]["get"]["responses"]


def test_demo_streaming_steps_are_described_as_event_streams() -> None:
    spec = Motia(REPO / "steps", store="memory").openapi()
    assert "text/event-stream" in spec["paths"]["/progress"]["post"]["responses"]["200"]["content"]


def test_operation_ids_are_identifiers_and_unique() -> None:
    spec = document(
        http_step("SSE Example", http("GET", "/a")),
        http_step("SSE-Example", http("GET", "/b"), http("POST", "/b")),
        http_step("1st step!", http("GET", "/c")),
    )
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert ids == ["SSE_Example", "SSE_Example_0", "SSE_Example_1", "_1st_step"]
    assert all(i.isidentifier() for i in ids)
