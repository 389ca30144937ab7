"""Stream subscriptions as Server-Sent Events against a real uvicorn server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from stream_server import HOOK_CALLS, ServerThread, build_app, wait_for

from motia import Motia, http, step
from motia._runtime.hub import parse_event_id
from motia._sending.chunk_writer import chunk_cycle
from motia._sending.event_stream import EventSender
from motia.settings import Settings
from motia.sse import ServerSentEvent, SSEParser

pytestmark = pytest.mark.anyio


def position_of(event: ServerSentEvent) -> int:
    """Where an event's id places it in the feed (the id must be one the server made)."""
    parsed = parse_event_id(event.id or "")
    assert parsed is not None, event.id
    return parsed[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(build_app(tmp_path)) as running:
        yield running


class EventReader:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.chunks = response.aiter_bytes()
        self.parser = SSEParser()
        self.events: list[ServerSentEvent] = []
        self.raw = b""

    async def take(self, count: int, deadline: float = 5.0) -> list[ServerSentEvent]:
        with anyio.fail_after(deadline):
            while len(self.events) < count:
                chunk = await self.chunks.__anext__()
                self.raw += chunk
                self.events.extend(self.parser.feed(chunk))
        taken, self.events = self.events[:count], self.events[count:]
        return taken


def events_url(server: ServerThread, path: str) -> str:
    return f"{server.url}/streams/{path}"


async def test_sync_then_one_event_per_change(server: ServerThread) -> None:
    todo = server.streams.todo
    server.call(todo.set, "inbox", "a", {"n": 1})
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("GET", events_url(server, "todo/inbox")) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        (sync,) = await reader.take(1)
        assert sync.event == "sync" and sync.json()["event"]["data"] == [{"id": "a", "n": 1}]
        server.call(todo.set, "inbox", "b", {"n": 2})
        server.call(todo.send, {"groupId": "inbox"}, {"type": "hi", "data": None})
        server.call(todo.delete, "inbox", "a")
        events = await reader.take(3)
    assert [e.event for e in events] == ["create", "event", "delete"]
    positions = [position_of(event) for event in [sync, *events]]
    assert positions == sorted(positions)
    assert events[0].json()["id"] == "b"


async def test_item_subscription(server: ServerThread) -> None:
    todo = server.streams.todo
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("GET", events_url(server, "todo/inbox/a")) as response,
    ):
        reader = EventReader(response)
        (sync,) = await reader.take(1)
        assert sync.json()["event"] == {"type": "sync", "data": None}
        server.call(todo.set, "inbox", "b", {"n": 2})
        server.call(todo.set, "inbox", "a", {"n": 1})
        (created,) = await reader.take(1)
    assert created.event == "create" and created.json()["id"] == "a"


async def test_last_event_id_resumes_without_a_sync(server: ServerThread) -> None:
    todo = server.streams.todo
    url = events_url(server, "todo/inbox")
    async with httpx.AsyncClient(timeout=5) as client:
        async with client.stream("GET", url) as response:
            reader = EventReader(response)
            await reader.take(1)
            server.call(todo.set, "inbox", "a", {"n": 1})
            (last,) = await reader.take(1)
        server.call(todo.set, "inbox", "b", {"n": 2})
        server.call(todo.set, "inbox", "a", {"n": 3})
        headers = {"Last-Event-ID": str(last.id)}
        async with client.stream("GET", url, headers=headers) as response:
            missed = await EventReader(response).take(2)
    assert [(e.event, e.json()["id"]) for e in missed] == [("create", "b"), ("update", "a")]
    assert position_of(missed[0]) > position_of(last)


@pytest.mark.parametrize("last_id", ["1", "not-a-number", "99999999999999"])
async def test_unknown_last_event_id_gets_reset_then_sync(
    server: ServerThread, last_id: str
) -> None:
    server.call(server.streams.todo.set, "inbox", "a", {"n": 1})
    url = events_url(server, "todo/inbox")
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("GET", url, headers={"Last-Event-ID": last_id}) as response,
    ):
        reset, sync = await EventReader(response).take(2)
    assert reset.event == "reset" and reset.json()["event"] == {"type": "reset"}
    assert sync.event == "sync" and sync.json()["event"]["data"] == [{"id": "a", "n": 1}]


async def test_auth_refusals_and_unknown_stream(server: ServerThread) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        refused = await client.get(events_url(server, "todo/inbox?authToken=bad"))
        bearer = await client.get(
            events_url(server, "todo/inbox"), headers={"Authorization": "Bearer false"}
        )
        missing = await client.get(events_url(server, "nope/inbox"))
        denied = await client.get(events_url(server, "todo/secret"))
    assert (refused.status_code, bearer.status_code) == (401, 401)
    assert missing.status_code == 404
    assert missing.json() == {"error": "Stream nope not found", "code": "STREAM_NOT_FOUND"}
    assert denied.status_code == 403 and denied.json()["code"] == "STREAM_ACCESS_DENIED"


async def test_token_reaches_on_join_and_disconnect_runs_on_leave(server: ServerThread) -> None:
    url = events_url(server, "todo/inbox?authToken=t1")
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("GET", url) as response,
    ):
        await EventReader(response).take(1)
    await wait_for(lambda: any(call[0] == "leave" for call in HOOK_CALLS))
    joins = [call for call in HOOK_CALLS if call[0] == "join"]
    assert joins[0][4] == {"user": "t1"}
    assert not server.motia.runtime.hub.sinks


async def test_heartbeat_comments(tmp_path: Path) -> None:
    app = build_app(tmp_path, settings=Settings(heartbeat_interval=0.1))
    with ServerThread(app) as server:
        async with (
            httpx.AsyncClient(timeout=5) as client,
            client.stream("GET", events_url(server, "todo/inbox")) as response,
        ):
            reader = EventReader(response)
            await reader.take(1)
            with anyio.fail_after(5):
                async for chunk in reader.chunks:
                    if b": ping\n\n" in chunk:
                        break


async def test_shutdown_ends_the_body(tmp_path: Path) -> None:
    server = ServerThread(build_app(tmp_path))
    with server:
        async with (
            httpx.AsyncClient(timeout=5) as client,
            client.stream("GET", events_url(server, "todo/inbox")) as response,
        ):
            reader = EventReader(response)
            await reader.take(1)
            await anyio.to_thread.run_sync(server.stop)
            with anyio.fail_after(5):
                async for _ in reader.chunks:
                    pass


def test_slow_event_stream_is_ended(tmp_path: Path) -> None:
    """The sender drops its queue and ends once its client is too far behind."""
    from motia._runtime.stats import Stats
    from motia._sending.event_stream import EventSender
    from motia._sending.sender import SendPolicy

    policy = SendPolicy(100, Stats())
    stopped: list[bool] = []

    async def run() -> None:
        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)
            await anyio.sleep_forever()  # the client takes nothing more

        sender = EventSender(policy, lambda: stopped.append(True), send)
        sender.put(b"x" * 60)  # goes out at once, and waits
        sender.put(b"x" * 60)
        assert not sender.closed
        sender.put(b"x" * 60)
        assert sender.closed and stopped == [True] and policy.stats.slow_closes == 1
        assert len(sent) == 1

    anyio.run(run)


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, message: Any) -> None:
        self.bodies.append(message["body"])


def event_sink(send: Recorder) -> Any:
    from motia._runtime.stats import Stats
    from motia._sending.event_stream import EventSender
    from motia._sending.sender import SendPolicy

    return EventSender(SendPolicy(1 << 20, Stats()), lambda: None, send)


async def test_frames_queued_together_go_out_in_one_chunk() -> None:
    send = Recorder()
    sink = event_sink(send)
    for index in range(3):
        sink.put(b"data: %d\n\n" % index)
    await anyio.sleep(0)
    sink.put(b"data: 3\n\n")
    await anyio.sleep(0)
    # The first frame on an idle stream goes out at once; the rest of the turn, joined.
    assert send.bodies == [b"data: 0\n\n", b"data: 1\n\ndata: 2\n\n", b"data: 3\n\n"]


async def test_a_ping_only_after_a_silent_interval() -> None:
    send = Recorder()
    sink = event_sink(send)
    sink.heartbeat(0.3)
    try:
        for _ in range(20):  # a frame every 20 ms, far busier than the heartbeat: no ping
            sink.put(b"data: x\n\n")
            await anyio.sleep(0.02)
        assert b": ping\n\n" not in send.bodies
        with anyio.fail_after(2):
            while b": ping\n\n" not in send.bodies:
                await anyio.sleep(0.01)
    finally:
        sink.stop_heartbeat()


async def test_a_turns_frames_reach_a_subscription_in_one_write(server: ServerThread) -> None:
    todo = server.streams.todo

    async def three_changes() -> list[int]:
        (sender,) = [s for s in server.motia.runtime.hub.sinks if isinstance(s, EventSender)]
        before = sender.sent
        for name in ("a", "b", "c"):
            await todo.set("inbox", name, {})
        await asyncio.sleep(0)  # the send batch's turn
        return [before, sender.sent, chunk_cycle(sender._send) is not None]

    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("GET", events_url(server, "todo/inbox")) as response,
    ):
        reader = EventReader(response)
        await reader.take(1)
        before, after, direct = server.call(three_changes)
        events = await reader.take(3)
    assert [e.json()["id"] for e in events] == ["a", "b", "c"]
    assert after == before + 1
    assert direct  # the endpoint got the server's own send: chunks skip the ASGI send


def test_the_event_route_skips_the_router_only_where_the_router_would_pick_it() -> None:
    def scope(path: str) -> dict[str, Any]:
        return {"type": "http", "method": "GET", "path": path, "root_path": ""}

    custom = step(
        {"name": "Custom", "triggers": [http("GET", "/streams/custom/{group}")]}, lambda a, c: {}
    )
    app = Motia(steps_dir=None, steps=[custom], store="memory").asgi()
    subscription = scope("/streams/todo/inbox")
    assert app._routed_events(subscription) is app._events is not None
    assert subscription["path_params"] == {"stream_name": "todo", "group_id": "inbox"}
    assert app._routed_events(scope("/streams/custom/inbox")) is None
    assert app._routed_events(scope("/streams/nowhere")) is None
