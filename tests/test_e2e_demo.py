"""The demo steps in steps/, served by a real `motia start` process, read as a browser would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from support import REPO, ServerProcess, free_port, motia_process, read_events

pytestmark = pytest.mark.slow  # the demo served by a `motia start` process

TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with motia_process("start", REPO, "--dir", "steps") as server:
        yield server


def post_events(server: ServerProcess, path: str, **kwargs: object) -> tuple[httpx.Response, list]:
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        client.stream("POST", server.url + path, **kwargs) as response,
    ):
        return response, read_events(response)


def test_stream_step_echoes_the_form_fields_as_items(demo: ServerProcess) -> None:
    response, events = post_events(demo, "/stream", data={"name": "motia", "kind": "demo"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    items, done = events[:-1], events[-1]
    assert 5 <= len(items) <= 10
    for index, event in enumerate(items, start=1):
        assert event.event == "item"
        item = event.json()
        assert item["id"] == f"item-{index}"
        assert item["data"] == {"name": "motia", "kind": "demo"}
        assert isinstance(item["timestamp"], int)
    assert done.event == "done"
    assert done.json() == {"total": len(items)}


def test_progress_step_reaches_100_then_completes(demo: ServerProcess) -> None:
    _, events = post_events(demo, "/progress")
    progress = [e.json() for e in events if e.event == "progress"]
    assert [p["current"] for p in progress] == list(range(1, len(progress) + 1))
    assert all(p["total"] == len(progress) for p in progress)
    percents = [p["progress"] for p in progress]
    assert percents == sorted(percents) and percents[-1] == 100
    assert events[-1].event == "complete"
    assert events[-1].json() == {"success": True}


def test_chat_streams_a_local_reply_without_an_api_key(demo: ServerProcess) -> None:
    _, events = post_events(demo, "/chat", json={"message": "hello", "conversationId": "c1"})
    tokens = [e.json()["token"] for e in events if e.event == "token"]
    assert "".join(tokens).startswith("You said: hello.")
    assert events[-1].event == "done"
    assert events[-1].json() == {"tokens": len(tokens), "conversationId": "c1"}


def test_chat_refuses_a_body_without_message(demo: ServerProcess) -> None:
    response = httpx.post(demo.url + "/chat", json={"text": "hi"}, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "message", "message": "Field required"}]


def test_hello_answers_json_with_a_trace_id(demo: ServerProcess) -> None:
    response = httpx.get(
        demo.url + "/hello/world", headers={"x-trace-id": "trace-42"}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, world!", "traceId": "trace-42"}
    assert response.headers["x-trace-id"] == "trace-42"


class FakeUpstream:
    """An OpenAI-compatible chat endpoint that streams, fails or stalls on demand."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.disconnected = threading.Event()
        app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, port=self.port, log_level="warning", lifespan="off")
        )

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        assert body["stream"] is True
        if self.mode == "fail":
            return JSONResponse({"error": "overloaded"}, status_code=503)
        return StreamingResponse(self._frames(request), media_type="text/event-stream")

    async def _frames(self, request: Request) -> object:
        import asyncio

        for word in ("Hel", "lo", " there"):
            yield f"data: {json.dumps({'choices': [{'delta': {'content': word}}]})}\n\n"
        if self.mode == "stall":
            try:
                while True:
                    yield ": still here\n\n"
                    await asyncio.sleep(0.05)
            finally:
                self.disconnected.set()
        yield "data: [DONE]\n\n"

    def __enter__(self) -> FakeUpstream:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "fake upstream did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def upstream_chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeUpstream, ServerProcess]]:
    with FakeUpstream() as upstream:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{upstream.port}/v1")
        with motia_process("start", REPO, "--dir", "steps") as server:
            yield upstream, server


def test_chat_streams_the_upstream_completion(upstream_chat: tuple) -> None:
    _, server = upstream_chat
    _, events = post_events(server, "/chat", json={"message": "hi"})
    tokens = [e.json()["token"] for e in events if e.event == "token"]
    assert tokens == ["Hel", "lo", " there"]
    assert events[-1].event == "done"


def test_chat_turns_an_upstream_error_into_an_error_event(upstream_chat: tuple) -> None:
    upstream, server = upstream_chat
    upstream.mode = "fail"
    _, events = post_events(server, "/chat", json={"message": "hi"})
    assert events[-1].event == "error"
    assert "503" in events[-1].json()["message"]


def test_a_client_leaving_cancels_the_upstream_request(upstream_chat: tuple) -> None:
    upstream, server = upstream_chat
    upstream.mode = "stall"
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        client.stream("POST", server.url + "/chat", json={"message": "hi"}) as response,
    ):
        assert read_events(response, limit=3)[-1].json() == {"token": " there"}
    assert upstream.disconnected.wait(timeout=5), "upstream request still open"


def test_sse_frames_parse_identically_across_chunk_boundaries(demo: ServerProcess) -> None:
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        client.stream("POST", demo.url + "/progress") as response,
    ):
        raw = b"".join(response.iter_bytes())
    from motia.sse import SSEParser

    whole = SSEParser().feed(raw)
    parser = SSEParser()
    split = [event for i in range(len(raw)) for event in parser.feed(raw[i : i + 1])]
    assert split == whole and whole[-1].event == "complete"
