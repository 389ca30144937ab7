"""Streaming responses (SSE): ordering, framing, headers, heartbeats, slow and gone clients."""

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread
import httpx
import pytest
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware

from motia import Motia, ResponseStartedError, Settings, http, step
from motia.sse import ServerSentEvent, SSEParser

pytestmark = pytest.mark.anyio

LiveServer = Callable[[Any], AbstractAsyncContextManager[str]]
EVENT_STREAM = {"content-type": "text/event-stream"}
HEADERS: dict[str, str] = {}
"""What every client here sends: see ``accept``."""


@pytest.fixture(autouse=True, params=["*/*", "text/event-stream"])
def accept(request: pytest.FixtureRequest) -> str:
    """Each test runs for a plain request and for one asking for an event stream, whose
    handler runs in a task of its own."""
    HEADERS["accept"] = request.param
    return str(request.param)


def make_app(handler: Any, *, settings: Settings | None = None, **trigger: Any) -> Motia:
    definition = step({"name": "Stream", "triggers": [http("GET", "/s", **trigger)]}, handler)
    return Motia(steps_dir=None, steps=[definition], store="memory", settings=settings)


@asynccontextmanager
async def asgi_client(app: Motia) -> AsyncIterator[httpx.AsyncClient]:
    """In-memory client: fine for streams that end (it collects the whole body)."""
    asgi = app.asgi()
    async with asgi.router.lifespan_context(asgi):
        transport = httpx.ASGITransport(asgi)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=HEADERS
        ) as client:
            yield client


async def fetch(app: Motia) -> httpx.Response:
    with anyio.fail_after(5):
        async with asgi_client(app) as client:
            return await client.get("/s")


def events(body: bytes) -> list[ServerSentEvent]:
    return SSEParser().feed(body)


async def test_status_and_headers_before_the_first_byte_then_a_clear_error() -> None:
    errors: list[str] = []

    async def handler(args: Any) -> None:
        response = args.response
        await response.status(201)
        await response.headers({**EVENT_STREAM, "X-Custom": "yes", "Connection": "keep-alive"})
        response.write("data: one\n\n")
        for late in (response.status(500), response.headers({"x-late": "1"})):
            try:
                await late
            except ResponseStartedError as exc:
                errors.append(str(exc))
        response.close()

    response = await fetch(make_app(handler))
    assert response.status_code == 201
    assert response.headers["x-custom"] == "yes"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "connection" not in response.headers
    assert "x-late" not in response.headers
    assert len(response.headers["x-trace-id"]) == 32
    assert response.content == b"data: one\n\n"
    assert errors == [
        "response.status() called after the first body byte was written; "
        "set status and headers before writing",
        "response.headers() called after the first body byte was written; "
        "set status and headers before writing",
    ]


async def test_own_cache_control_is_kept() -> None:
    async def handler(args: Any) -> None:
        await args.response.headers({**EVENT_STREAM, "cache-control": "no-store"})
        args.response.write(b"data: x\n\n")

    assert (await fetch(make_app(handler))).headers["cache-control"] == "no-store"


async def test_writes_and_sends_arrive_in_order_with_exact_bytes() -> None:
    async def handler(args: Any) -> None:
        response = args.response
        await response.headers(EVENT_STREAM)
        response.writer.stream.write(b"event: raw\ndata: bytes\n\n")
        response.stream.write("data: str\n\n")
        await response.send(event="item", data={"n": 1}, id=7, retry=2500)
        await response.send(data="line1\nline2")
        with pytest.raises(ValueError, match="CR or LF"):
            await response.send(event="bad\nevent", data="x")
        with pytest.raises(ValueError, match="CR or LF"):
            await response.send(id="1\r2", data="x")
        response.close()
        response.write("data: after close is dropped\n\n")

    response = await fetch(make_app(handler))
    assert response.content == (
        b"event: raw\ndata: bytes\n\n"
        b"data: str\n\n"
        b'event: item\nid: 7\nretry: 2500\ndata: {"n":1}\n\n'
        b"data: line1\ndata: line2\n\n"
    )


async def test_send_writes_models_by_alias_and_text_as_utf8() -> None:
    class Tick(BaseModel):
        group_id: str = Field(alias="groupId")
        label: str

    async def handler(args: Any) -> None:
        await args.response.headers(EVENT_STREAM)
        await args.response.send(data=Tick(groupId="g", label="café ✓"), event="tick")
        await args.response.send(data={"name": "Zoë"})
        await args.response.send(data="naïve")

    expected = (
        'event: tick\ndata: {"groupId":"g","label":"café ✓"}\n\n'
        'data: {"name":"Zoë"}\n\n'
        "data: naïve\n\n"
    )
    assert (await fetch(make_app(handler))).content == expected.encode()


async def test_send_refuses_nan_before_writing_anything() -> None:
    async def handler(args: Any) -> None:
        await args.response.headers(EVENT_STREAM)
        with pytest.raises(ValueError, match="NaN and Infinity are not JSON"):
            await args.response.send(data={"x": float("nan")})
        await args.response.send(data="ok")

    assert (await fetch(make_app(handler))).content == b"data: ok\n\n"


async def test_returning_without_close_ends_the_body() -> None:
    async def handler(args: Any) -> None:
        await args.response.headers(EVENT_STREAM)
        for i in range(3):
            await args.response.send(data=str(i))

    response = await fetch(make_app(handler))
    assert [e.data for e in events(response.content)] == ["0", "1", "2"]


async def test_is_closed_and_wait_closed() -> None:
    seen: list[bool] = []

    async def handler(args: Any) -> None:
        response = args.response
        await response.headers(EVENT_STREAM)
        response.write("data: x\n\n")
        seen.append(response.is_closed)
        response.close()
        seen.append(response.is_closed)
        await response.wait_closed()
        seen.append(response.is_closed)

    response = await fetch(make_app(handler))
    assert response.content == b"data: x\n\n"
    assert seen == [False, True, True]


async def test_exception_after_first_byte_becomes_an_error_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(args: Any, ctx: Any) -> None:
        await args.response.headers(EVENT_STREAM)
        await args.response.send(data="partial")
        raise KeyError("mid-stream")

    caplog.set_level(logging.ERROR, logger="motia")
    response = await fetch(make_app(handler))
    first, error = events(response.content)
    assert first.data == "partial"
    assert error.event == "error"
    trace_id = response.headers["x-trace-id"]
    assert error.json() == {"message": "Internal Server Error", "trace_id": trace_id}
    assert "Traceback" in caplog.text and "mid-stream" in caplog.text


async def test_sync_handler_streams_from_a_worker_thread_in_order() -> None:
    threads: list[int] = []

    def handler(args: Any) -> None:
        threads.append(threading.get_ident())
        anyio.from_thread.run(args.response.headers, EVENT_STREAM)
        for i in range(200):
            args.response.write(f"data: {i}\n\n")
        args.response.close()

    response = await fetch(make_app(handler))
    assert threads and threads[0] != threading.get_ident()
    assert response.headers["content-type"] == "text/event-stream"
    assert [e.data for e in events(response.content)] == [str(i) for i in range(200)]


def idle_handler(idle: float = 0.4) -> Any:
    async def handler(args: Any) -> None:
        await args.response.headers(EVENT_STREAM)
        await args.response.send(data="start", id="1")
        await anyio.sleep(idle)
        await args.response.send(data="end")

    return handler


@pytest.mark.parametrize(
    ("settings", "trigger_interval", "pings"),
    [
        (Settings(heartbeat_interval=0.05), None, True),
        (Settings(), 0.05, True),
        (Settings(heartbeat_interval=0.05), 0, False),
        (Settings(heartbeat_interval=0), None, False),
    ],
)
async def test_heartbeat_pings_on_idle_streams(
    settings: Settings, trigger_interval: float | None, pings: bool
) -> None:
    app = make_app(idle_handler(), settings=settings, heartbeat_interval=trigger_interval)
    body = (await fetch(app)).content
    frames = body.split(b"\n\n")[:-1]
    assert frames[0] == b"id: 1\ndata: start"
    assert frames[-1] == b"data: end"
    middle = frames[1:-1]
    if pings:
        assert middle and set(middle) == {b": ping"}
    else:
        assert middle == []
    assert [e.data for e in events(body)] == ["start", "end"]


async def test_non_event_stream_gets_no_pings_or_sse_headers() -> None:
    async def handler(args: Any) -> None:
        await args.response.headers({"content-type": "text/plain"})
        args.response.write("a")
        await anyio.sleep(0.2)
        args.response.write("b")

    response = await fetch(make_app(handler, settings=Settings(heartbeat_interval=0.02)))
    assert response.content == b"ab"
    assert "x-accel-buffering" not in response.headers


# -- real server: clients that go away or do not read ----------------------------------


async def read_events(response: httpx.Response, parser: SSEParser, count: int) -> list[Any]:
    found: list[ServerSentEvent] = []
    async for chunk in response.aiter_raw():
        found.extend(parser.feed(chunk))
        if len(found) >= count:
            return found
    return found


def forever_handler(started: list[int], finished: list[int]) -> Any:
    async def handler(args: Any) -> None:
        started.append(1)
        try:
            await args.response.headers(EVENT_STREAM)
            await args.response.send(data="hello")
            await anyio.sleep(60)
        finally:
            finished.append(1)

    return handler


async def wait_for(predicate: Callable[[], bool], timeout: float = 5) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_client_disconnect_cancels_the_handler_promptly(live_server: LiveServer) -> None:
    started: list[int] = []
    finished: list[int] = []
    app = make_app(forever_handler(started, finished))
    async with (
        live_server(app.asgi()) as url,
        httpx.AsyncClient(base_url=url, headers=HEADERS) as client,
    ):
        with anyio.fail_after(5):
            async with client.stream("GET", "/s") as response:
                (event,) = await read_events(response, SSEParser(), 1)
                assert event.data == "hello"
        await wait_for(lambda: bool(finished), timeout=1)
        assert app.runtime.stats.open_streams == 0


async def test_an_event_stream_request_runs_its_handler_as_the_root_of_a_task(
    accept: str, live_server: LiveServer
) -> None:
    """Then a woken handler's task resumes the handler alone, not the server's and every
    middleware's coroutines around it; each idle connection still costs two tasks."""
    roots: list[str] = []
    seen: list[str] = []
    tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant")

    async def handler(args: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        roots.append(task.get_coro().__qualname__)  # type: ignore[union-attr]
        seen.append(tenant.get())
        await forever_handler([], [])(args)

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        tenant.set("acme")
        await asgi(scope, receive, send)

    asgi = make_app(handler).asgi()
    async with live_server(middleware) as url:
        baseline = len(asyncio.all_tasks())
        async with contextlib.AsyncExitStack() as open_streams:
            for _ in range(10):
                stream = await open_streams.enter_async_context(await open_raw(url, "/s"))
                await read_until(stream, b"data: hello\n\n")
            per_connection = (len(asyncio.all_tasks()) - baseline) / 10
    handler_first = [root.endswith("<locals>.handler") for root in roots]
    assert handler_first == [accept == "text/event-stream"] * 10
    assert seen == ["acme"] * 10  # the handler sees what was set around the app
    assert per_connection <= 2


async def open_raw(url: str, path: str) -> anyio.abc.SocketStream:
    """A GET on a socket of its own, sending ``HEADERS``, that stays open until closed."""
    host, port = url.removeprefix("http://").split(":")
    stream = await anyio.connect_tcp(host, int(port))
    headers = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    await stream.send(f"GET {path} HTTP/1.1\r\nhost: t\r\n{headers}\r\n".encode())
    return stream


async def read_until(stream: anyio.abc.SocketStream, wanted: bytes) -> bytes:
    received = b""
    with anyio.fail_after(5):
        while wanted not in received:
            received += await stream.receive()
    return received


async def test_a_woken_stream_writes_once_at_once_then_joins_the_rest_of_the_turn(
    live_server: LiveServer,
) -> None:
    sends_per_burst: list[int] = []

    async def handler(args: Any) -> None:
        response = args.response
        await response.headers(EVENT_STREAM)
        await response.send(data="0")
        for burst in range(2):
            await asyncio.sleep(0.05)  # idle again: the next write may go straight out
            before = response._body.sent
            for n in range(3):
                await response.send(data=f"{burst}.{n}")
            sends_per_burst.append(response._body.sent - before)
            await asyncio.sleep(0)  # the send batch's turn
            sends_per_burst.append(response._body.sent - before)

    app = make_app(handler)
    async with live_server(app.asgi()) as url, httpx.AsyncClient(headers=HEADERS) as client:
        with anyio.fail_after(5):
            response = await client.get(url + "/s")
    assert [e.data for e in events(response.content)] == [
        "0", "0.0", "0.1", "0.2", "1.0", "1.1", "1.2"
    ]  # fmt: skip
    assert sends_per_burst == [1, 2, 1, 2]  # the first at once, the other two joined


class PureMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class PassThrough(BaseHTTPMiddleware):
    async def dispatch(self, request: Any, call_next: Any) -> Any:
        return await call_next(request)


@pytest.mark.parametrize("middleware", [None, PureMiddleware, PassThrough])
async def test_many_disconnects_leave_no_task_behind(
    live_server: LiveServer, middleware: Any
) -> None:
    started: list[int] = []
    finished: list[int] = []
    app = make_app(forever_handler(started, finished))
    asgi = app.asgi()
    if middleware is not None:
        asgi.add_middleware(middleware)
    async with live_server(asgi) as url:
        baseline = len(asyncio.all_tasks())
        for _ in range(50):
            async with httpx.AsyncClient(base_url=url, headers=HEADERS) as client:
                with anyio.fail_after(5):
                    async with client.stream("GET", "/s") as response:
                        await read_events(response, SSEParser(), 1)
        await wait_for(lambda: len(finished) == 50)
        await wait_for(lambda: len(asyncio.all_tasks()) <= baseline)
        assert app.runtime.stats.open_streams == 0
        assert not app.runtime.responses


async def test_slow_client_is_closed_counted_and_logged(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    finished: list[int] = []

    async def handler(args: Any) -> None:
        try:
            await args.response.headers(EVENT_STREAM)
            chunk = "data: " + "x" * 65536 + "\n\n"
            for _ in range(20_000):  # ~1.3 GB if never stopped
                args.response.write(chunk)
                await asyncio.sleep(0)
        finally:
            finished.append(1)

    caplog.set_level(logging.WARNING, logger="motia")
    app = make_app(handler, settings=Settings(max_stream_buffer=256 * 1024))
    async with (
        live_server(app.asgi()) as url,
        httpx.AsyncClient(base_url=url, headers=HEADERS) as client,
    ):
        with anyio.fail_after(20):
            async with client.stream("GET", "/s") as response:
                await wait_for(lambda: app.runtime.stats.slow_closes == 1, timeout=15)
                await wait_for(lambda: bool(finished))
                parser, events = SSEParser(), []
                async for chunk in response.aiter_raw():  # the client catches up: it is told
                    events += parser.feed(chunk)
    assert events[-1].event == "error"
    assert events[-1].json()["code"] == "SLOW_CONSUMER"
    assert "closing a stream whose client reads too slowly" in caplog.text
    assert app.runtime.hub.stats is app.runtime.stats  # one set of counters for every connection


async def test_sync_handler_can_poll_is_closed_and_stops_when_the_client_leaves(
    live_server: LiveServer,
) -> None:
    finished: list[int] = []

    def handler(args: Any) -> None:
        try:
            while not args.response.is_closed:
                args.response.write("data: tick\n\n")
                time.sleep(0.01)
        finally:
            finished.append(1)

    app = make_app(handler)
    async with (
        live_server(app.asgi()) as url,
        httpx.AsyncClient(base_url=url, headers=HEADERS) as client,
    ):
        with anyio.fail_after(5):
            async with client.stream("GET", "/s") as response:
                (event,) = await read_events(response, SSEParser(), 1)
        assert event.data == "tick"
        await wait_for(lambda: bool(finished))


@pytest.mark.parametrize("then", ["raise", "return a value"])
async def test_after_close_without_writing_nothing_else_is_sent(
    then: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(args: Any) -> Any:
        await args.response.status(202)
        args.response.close()
        await anyio.sleep(0.01)
        if then == "raise":
            raise ValueError("after close")
        return {"status": 500, "body": "ignored"}

    caplog.set_level(logging.ERROR, logger="motia")
    response = await fetch(make_app(handler))
    assert (response.status_code, response.content) == (202, b"")
    assert ("after close" in caplog.text) == (then == "raise")


async def test_pings_start_once_an_event_stream_is_declared_before_any_write(
    live_server: LiveServer,
) -> None:
    async def handler(args: Any) -> None:
        await args.response.status(200)
        await args.response.headers({"content-type": "text/event-stream"})
        await anyio.sleep(30)

    definition = step({"name": "Quiet", "triggers": [http("GET", "/quiet")]}, handler)
    app = Motia(steps_dir=None, steps=[definition], store="memory",
                settings=Settings(heartbeat_interval=0.05))  # fmt: skip
    async with (
        live_server(app.asgi()) as url,
        httpx.AsyncClient(timeout=5, headers=HEADERS) as client,
    ):
        with anyio.fail_after(5):
            async with client.stream("GET", url + "/quiet") as response:
                assert response.headers["content-type"] == "text/event-stream"
                first = await anext(response.aiter_bytes())
    assert first.startswith(b": ping")


async def test_returned_hop_by_hop_headers_are_dropped(live_server: LiveServer) -> None:
    async def handler(args: Any) -> dict[str, Any]:
        headers = {"Transfer-Encoding": "chunked", "Connection": "upgrade", "x-a": "1"}
        return {"status": 200, "body": "ok", "headers": headers}

    definition = step({"name": "Hop", "triggers": [http("GET", "/hop")]}, handler)
    app = Motia(steps_dir=None, steps=[definition], store="memory")
    async with (
        live_server(app.asgi()) as url,
        httpx.AsyncClient(timeout=5, headers=HEADERS) as client,
    ):
        response = await client.get(url + "/hop")
    assert response.text == "ok" and response.headers["x-a"] == "1"
    assert "transfer-encoding" not in response.headers
    assert response.headers.get("connection") != "upgrade"
