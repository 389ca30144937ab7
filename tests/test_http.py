"""HTTP steps end to end through the ASGI app: requests in, responses out."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import ApiRequest, ApiResponse, FlowContext, Motia, Settings, http, step

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serve(*definitions: Any, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    options.setdefault("store", "memory")
    app = Motia(steps_dir=None, steps=definitions, **options).asgi()
    with anyio.fail_after(10):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


def echo_step(method: str, path: str, **trigger: Any) -> Any:
    async def handler(args: Any, ctx: Any) -> Any:
        request = args.request
        return {
            "status": 200,
            "body": {
                "method": request.method,
                "path_params": request.path_params,
                "query": request.query_params,
                "headers": request.headers,
                "body": request.body,
            },
        }

    return step({"name": f"{method}{path}", "triggers": [http(method, path, **trigger)]}, handler)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_methods(method: str) -> None:
    async with serve(echo_step(method, "/m")) as client:
        response = await client.request(method, "/m")
    assert response.status_code == 200
    assert response.json()["method"] == method


async def test_head() -> None:
    async def handler(args: Any) -> Any:
        return ApiResponse(status=200, headers={"x-head": "yes"})

    async with serve(step({"name": "H", "triggers": [http("HEAD", "/h")]}, handler)) as client:
        response = await client.head("/h")
    assert (response.status_code, response.headers["x-head"]) == (200, "yes")


@pytest.mark.parametrize("path", ["/todo/:id/items/:item", "/todo/{id}/items/{item}"])
async def test_path_params(path: str) -> None:
    async with serve(echo_step("GET", path)) as client:
        response = await client.get("/todo/42/items/a%20b")
    assert response.json()["path_params"] == {"id": "42", "item": "a b"}


async def test_starlette_converters_in_paths_match_and_constrain() -> None:
    async with serve(echo_step("GET", "/items/{item_id:int}")) as client:
        matched = await client.get("/items/5")
        unmatched = await client.get("/items/five")
    assert matched.json()["path_params"] == {"item_id": "5"}
    assert unmatched.status_code == 404


async def test_query_params_repeated_keys_become_lists_and_headers_are_lower_case() -> None:
    async with serve(echo_step("GET", "/q")) as client:
        response = await client.get("/q?tag=a&tag=b&one=1&empty=", headers={"X-Custom-Thing": "V"})
    data = response.json()
    assert data["query"] == {"tag": ["a", "b"], "one": "1", "empty": ""}
    assert data["headers"]["x-custom-thing"] == "V"
    assert all(name == name.lower() for name in data["headers"])


async def test_json_and_form_bodies() -> None:
    async with serve(echo_step("POST", "/b")) as client:
        as_json = await client.post("/b", json={"a": [1, 2]})
        as_form = await client.post("/b", data={"a": "1", "b": ["x", "y"]})
        as_text = await client.post("/b", content=b"plain", headers={"content-type": "text/plain"})
    assert as_json.json()["body"] == {"a": [1, 2]}
    assert as_form.json()["body"] == {"a": "1", "b": ["x", "y"]}
    assert as_text.json()["body"] is None


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream", ""])
async def test_raw_body_readable_whatever_the_content_type(content_type: str) -> None:
    async def handler(args: Any) -> Any:
        streamed = [chunk async for chunk in args.request.request_body.stream]
        whole = await args.request.request_body.read_all()
        return {
            "status": 200,
            "body": {"streamed": b"".join(streamed).decode(), "whole": whole.decode()},
        }

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a":'
        yield b" 1}"

    headers = {"content-type": content_type} if content_type else {}
    async with serve(step({"name": "R", "triggers": [http("POST", "/r")]}, handler)) as client:
        response = await client.post("/r", content=chunks(), headers=headers)
    assert response.json() == {"streamed": '{"a": 1}', "whole": '{"a": 1}'}


async def test_malformed_json_is_a_clear_400() -> None:
    called = []

    async def handler(args: Any) -> Any:
        called.append(1)

    async with serve(step({"name": "J", "triggers": [http("POST", "/j")]}, handler)) as client:
        response = await client.post(
            "/j", content=b"{nope", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["error"].startswith("request body is not valid JSON")
    assert "x-trace-id" in response.headers
    assert called == []


class Todo(BaseModel):
    title: str
    done: bool = False


TODO_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "done": {"type": "boolean"}},
    "required": ["title"],
}


@pytest.mark.parametrize("schema", [Todo, TODO_SCHEMA], ids=["pydantic", "json-schema"])
async def test_body_schema(schema: Any) -> None:
    received: list[Any] = []

    async def handler(args: Any) -> Any:
        received.append(args.request.body)
        return {"status": 201, "body": args.request.body}

    definition = step({"name": "T", "triggers": [http("POST", "/t", body_schema=schema)]}, handler)
    async with serve(definition) as client:
        bad = await client.post("/t", json={"title": 3, "done": "maybe"})
        assert received == []
        good = await client.post("/t", json={"title": "x"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "Request body validation failed"
    assert sorted(e["path"] for e in bad.json()["errors"]) == ["done", "title"]
    assert good.status_code == 201
    assert good.json()["title"] == "x"
    if schema is Todo:
        assert received == [Todo(title="x")]
    else:
        assert received == [{"title": "x"}]


async def test_camel_case_body_schema_in_a_dict_trigger() -> None:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": {"type": type(args.request.body).__name__}}

    trigger = {"type": "http", "method": "POST", "path": "/c", "bodySchema": Todo}
    async with serve(step({"name": "C", "triggers": [trigger]}, handler)) as client:
        assert (await client.post("/c", json={})).status_code == 400
        assert (await client.post("/c", json={"title": "t"})).json() == {"type": "Todo"}


async def test_body_over_the_limit_is_refused_without_reading_it_all() -> None:
    called = []
    sent = 0

    async def handler(args: Any) -> Any:
        called.append(1)

    async def huge() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(10_000):
            sent += 1
            yield b"x" * 1024

    settings = Settings(max_body_size=4096)
    async with serve(step({"name": "U", "triggers": [http("POST", "/u")]}, handler),
                     settings=settings) as client:  # fmt: skip
        response = await client.post("/u", content=huge())
        declared = await client.post("/u", content=b"x" * 5000)
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large", "limit": 4096}
    assert sent <= 6
    assert declared.status_code == 413
    assert called == []


@pytest.mark.parametrize(
    ("returned", "status", "content_type", "content"),
    [
        (ApiResponse(status=201, body={"a": 1}, headers={"X-A": "1"}), 201, "application/json",
         b'{"a":1}'),
        ({"status": 202, "body": [1, 2], "headers": {"x-a": "1"}}, 202, "application/json",
         b"[1,2]"),
        ({"status_code": 203, "body": "text"}, 203, "text/plain; charset=utf-8", b"text"),
        ({"status": 200, "body": b"\x00\x01"}, 200, "application/octet-stream", b"\x00\x01"),
        ({"status": 200, "body": Todo(title="m")}, 200, "application/json",
         b'{"title":"m","done":false}'),
        ({"status": 200, "body": "<b>", "headers": {"content-type": "text/html"}}, 200,
         "text/html", b"<b>"),
        ({"status": "ok", "items": []}, 200, "application/json", b'{"status":"ok","items":[]}'),
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ("just text", 200, "text/plain; charset=utf-8", b"just text"),
    ],
)  # fmt: skip
async def test_return_values(returned: Any, status: int, content_type: str, content: bytes) -> None:
    async def handler(args: Any) -> Any:
        return returned

    async with serve(step({"name": "V", "triggers": [http("GET", "/v")]}, handler)) as client:
        response = await client.get("/v")
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    assert response.content == content
    if isinstance(returned, ApiResponse) or ("headers" in returned and status != 200):
        assert response.headers["x-a"] == "1"


async def test_returning_nothing_is_204() -> None:
    async def handler(args: Any) -> None:
        return None

    async with serve(step({"name": "N", "triggers": [http("DELETE", "/n")]}, handler)) as client:
        response = await client.delete("/n")
    assert (response.status_code, response.content) == (204, b"")


async def test_handler_exception_is_500_json_with_trace_in_log_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(args: Any, ctx: Any) -> Any:
        raise ValueError("secret detail")

    caplog.set_level(logging.ERROR, logger="motia")
    async with serve(step({"name": "E", "triggers": [http("GET", "/e")]}, handler)) as client:
        response = await client.get("/e", headers={"x-trace-id": "trace-500"})
    assert response.status_code == 500
    assert response.json() == {"error": "Internal Server Error", "trace_id": "trace-500"}
    assert "Traceback" not in response.text
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.trace_id == "trace-500"  # type: ignore[attr-defined]
    assert record.step == "E"  # type: ignore[attr-defined]
    assert "secret detail" in caplog.text and "Traceback" in caplog.text


async def test_unknown_route_404_and_wrong_method_405_are_json() -> None:
    async with serve(echo_step("GET", "/only-get")) as client:
        missing = await client.get("/nope")
        wrong = await client.post("/only-get")
    assert missing.status_code == 404
    assert missing.json()["error"] == "Not Found"
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "Method Not Allowed"
    assert "GET" in wrong.headers["allow"]
    assert missing.headers["x-trace-id"] and wrong.headers["x-trace-id"]


async def test_middleware_runs_in_order_and_can_short_circuit() -> None:
    calls: list[str] = []

    def mark(name: str) -> Any:
        async def middleware(args: Any, ctx: Any, next: Any) -> Any:
            calls.append(f"{name}>")
            if args.request.headers.get("x-stop") == name:
                return {"status": 401, "body": {"stopped_by": name}}
            result = await next()
            calls.append(f"<{name}")
            return result

        return middleware

    async def handler(args: Any) -> Any:
        calls.append("handler")
        return {"status": 200, "body": "ok"}

    trigger = http("GET", "/mw", middleware=[mark("a"), mark("b")])
    async with serve(step({"name": "MW", "triggers": [trigger]}, handler)) as client:
        ok = await client.get("/mw")
        assert calls == ["a>", "b>", "handler", "<b", "<a"]
        calls.clear()
        stopped = await client.get("/mw", headers={"x-stop": "b"})
    assert ok.text == "ok"
    assert stopped.status_code == 401
    assert stopped.json() == {"stopped_by": "b"}
    assert calls == ["a>", "b>", "<a"]


async def test_sync_middleware_works_too() -> None:
    def middleware(args: Any, ctx: Any, next: Any) -> Any:
        return next()

    async def handler(args: Any) -> Any:
        return {"status": 200, "body": "through"}

    trigger = http("GET", "/s", middleware=[middleware])
    async with serve(step({"name": "S", "triggers": [trigger]}, handler)) as client:
        assert (await client.get("/s")).text == "through"


async def test_false_condition_is_422_and_skips_the_handler() -> None:
    called = []

    async def handler(args: Any) -> Any:
        called.append(1)
        return {"status": 200, "body": "ran"}

    def condition(request: ApiRequest[Any], ctx: Any) -> bool:
        return request.query_params.get("go") == "1"

    trigger = http("GET", "/c", condition=condition)
    async with serve(step({"name": "C", "triggers": [trigger]}, handler)) as client:
        skipped = await client.get("/c")
        ran = await client.get("/c?go=1")
    assert skipped.status_code == 422
    assert skipped.json() == {"error": "Request condition not met", "skipped": True}
    assert ran.text == "ran"
    assert called == [1]


async def test_trace_id_header_on_every_response_and_incoming_ids_honoured() -> None:
    async def handler(args: Any, ctx: Any) -> Any:
        return {"status": 200, "body": ctx.trace_id}

    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with serve(step({"name": "T", "triggers": [http("GET", "/t")]}, handler)) as client:
        fresh = await client.get("/t")
        given = await client.get("/t", headers={"x-trace-id": "abc-123"})
        parent = await client.get("/t", headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        unsafe = await client.get("/t", headers={"x-trace-id": "bad id\x7f"})
    assert fresh.headers["x-trace-id"] == fresh.text and len(fresh.text) == 32
    assert given.headers["x-trace-id"] == given.text == "abc-123"
    assert parent.headers["x-trace-id"] == parent.text == trace
    assert unsafe.text != "bad id\x7f"


async def test_sync_handler_runs_in_a_worker_thread() -> None:
    import threading

    main = threading.get_ident()

    def handler(args: Any) -> Any:
        return {"status": 200, "body": {"other_thread": threading.get_ident() != main}}

    async with serve(step({"name": "Sync", "triggers": [http("GET", "/s")]}, handler)) as client:
        assert (await client.get("/s")).json() == {"other_thread": True}


async def post_raw(
    app: Any,
    path: str,
    messages: list[dict[str, Any]],
    headers: list[tuple[bytes, bytes]],
    *,
    http_version: str = "1.1",
) -> list[Any]:
    """POST straight to the ASGI app, feeding it ``messages``; returns what it sent."""
    incoming = iter(messages)
    sent: list[Any] = []

    async def receive() -> Any:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": http_version,
        "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("t", 80),
    }  # fmt: skip
    with anyio.fail_after(5):
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)
    return sent


async def test_client_gone_mid_upload_does_not_run_the_handler_on_a_partial_body() -> None:
    called: list[Any] = []

    async def handler(args: Any) -> Any:
        called.append(args.request.body)

    app = Motia(
        steps_dir=None,
        steps=[step({"name": "Up", "triggers": [http("POST", "/up")]}, handler)],
        store="memory",
    ).asgi()
    messages = [
        {"type": "http.request", "body": b"a=1&b=", "more_body": True},
        {"type": "http.disconnect"},
    ]
    headers = [(b"content-type", b"application/x-www-form-urlencoded"),
               (b"transfer-encoding", b"chunked")]  # fmt: skip
    sent = await post_raw(app, "/up", messages, headers)
    assert called == []
    assert sent == []


async def test_a_head_step_wins_over_the_implicit_head_of_a_get_step() -> None:
    async def get(args: Any) -> Any:
        return {"status": 200, "body": "get"}

    async def head(args: Any) -> Any:
        return {"status": 200, "headers": {"x-from": "head"}}

    async with serve(
        step({"name": "G", "triggers": [http("GET", "/x")]}, get),
        step({"name": "H", "triggers": [http("HEAD", "/x")]}, head),
    ) as client:
        assert (await client.head("/x")).headers["x-from"] == "head"
        assert (await client.get("/x")).text == "get"


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"ratio": float("nan")}, "NaN and Infinity are not JSON"), ({"o": object()}, "unknown type")],
)
async def test_a_returned_body_that_is_not_json_is_a_clean_500(body: Any, reason: str) -> None:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": body}

    definition = step({"name": "J", "triggers": [http("GET", "/j")]}, handler)
    async with serve(definition, dev=True) as client:
        response = await client.get("/j", headers={"x-trace-id": "t-nan"})
    assert (response.status_code, response.headers["content-type"]) == (500, "application/json")
    error = response.json()
    assert error["trace_id"] == "t-nan"
    assert error["error"].startswith("UnencodableBody: the returned body is not JSON: ")
    assert reason in error["error"]


async def test_json_bodies_are_utf8_text_as_is() -> None:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": {"name": "Zoë ✓"}}

    async with serve(step({"name": "U", "triggers": [http("GET", "/u")]}, handler)) as client:
        response = await client.get("/u")
    assert response.content == '{"name":"Zoë ✓"}'.encode()
    assert response.headers["content-length"] == str(len(response.content))


async def test_dev_mode_500_names_the_exception() -> None:
    async def handler(args: Any) -> Any:
        raise ValueError("bad thing")

    definition = step({"name": "E", "triggers": [http("GET", "/e")]}, handler)
    async with serve(definition, dev=True) as client:
        response = await client.get("/e")
    assert response.status_code == 500
    assert response.json()["error"] == "ValueError: bad thing"


@pytest.mark.parametrize(
    ("version", "headers", "expected"),
    [
        ("1.1", [], b""),
        ("1.1", [(b"content-length", b"3")], b"abc"),
        ("1.1", [(b"transfer-encoding", b"chunked")], b"abc"),
        ("2", [], b"abc"),
    ],
)
async def test_bodies_are_read_when_the_protocol_says_one_may_follow(
    version: str, headers: list[tuple[bytes, bytes]], expected: bytes
) -> None:
    async def handler(args: Any) -> Any:
        return {"status": 200, "body": await args.request.request_body.read_all()}

    app = Motia(
        steps_dir=None, steps=[step({"name": "R", "triggers": [http("POST", "/r")]}, handler)],
        store="memory",
    ).asgi()  # fmt: skip
    messages = [{"type": "http.request", "body": b"abc", "more_body": False}]
    sent = await post_raw(app, "/r", messages, headers, http_version=version)
    assert sent[-1]["body"] == expected


@pytest.fixture
def quiet_step_logs() -> Any:
    """No step log records: pytest would keep a failure's, and with it its frames."""
    logger = logging.getLogger("motia.steps")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("fails", [False, True])
@pytest.mark.usefixtures("quiet_step_logs")
async def test_an_idle_keep_alive_connection_keeps_nothing_of_its_request(
    live_server: Any, fails: bool
) -> None:
    async def handler(args: Any, ctx: Any) -> Any:
        if fails:
            raise RuntimeError("boom")
        return {"status": 200, "body": {"ok": True}}

    app = Motia(
        steps_dir=None, steps=[step({"name": "K", "triggers": [http("GET", "/k")]}, handler)]
    )
    async with live_server(app.asgi()) as url, httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{url}/k")  # the connection stays open, idle
        assert response.status_code == (500 if fails else 200)
        trace_id = response.headers["x-trace-id"]

        def kept() -> list[FlowContext]:
            gc.collect()
            contexts = [o for o in gc.get_objects() if isinstance(o, FlowContext)]
            return [c for c in contexts if c.trace_id == trace_id]

        # The response can reach the client a moment before the server's call returns.
        with anyio.fail_after(5):
            while kept():
                await anyio.sleep(0.01)
