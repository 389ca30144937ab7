"""The stream WebSocket endpoint against a real uvicorn server (PROTOCOL.md)."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
import websockets
from starlette.routing import WebSocketRoute
from stream_server import (
    AUTH_REQUESTS,
    HOOK_CALLS,
    ServerThread,
    build_app,
    join,
    leave,
    receive,
    receive_one,
    small_socket,
    wait_for,
)
from websockets.exceptions import ConnectionClosed

from motia import Motia
from motia._http.asgi_app import direct_routes
from motia.backends.memory import MemoryStore
from motia.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with ServerThread(build_app(tmp_path)) as running:
        yield running


def test_the_stream_socket_skips_the_router_once_handed_over() -> None:
    routes = Motia(steps_dir=None, store="memory").routes()
    socket = next(route.app for route in routes if isinstance(route, WebSocketRoute))
    assert direct_routes(routes) == {}
    direct = {("WEBSOCKET", "/"): socket, ("WEBSOCKET", "/streams"): socket}
    assert direct_routes(routes, socket) == direct
    assert Motia(steps_dir=None, store="memory").asgi()._direct.keys() == direct.keys()


def connect(server: ServerThread, path: str = "/", **kwargs: Any) -> Any:
    return websockets.connect(server.ws_url + path, open_timeout=5, close_timeout=2, **kwargs)


async def test_group_sync_then_changes_in_order(server: ServerThread) -> None:
    todo = server.streams.todo
    server.call(todo.set, "inbox", "x", {"title": "x"})
    async with connect(server, "/streams", subprotocols=["Authorization", "tok"]) as ws:
        assert ws.subprotocol == "Authorization"
        await ws.send(join("todo", "inbox", "s1"))
        sync = await receive_one(ws)
        assert sync["event"] == {"type": "sync", "data": [{"id": "x", "title": "x"}]}
        assert sync["streamName"] == "todo" and sync["groupId"] == "inbox" and "id" not in sync
        server.call(todo.set, "inbox", "y", {"title": "y"})
        server.call(todo.set, "inbox", "x", {"title": "x2"})
        server.call(todo.send, {"groupId": "inbox"}, {"type": "typing", "data": {"user": "u"}})
        server.call(todo.delete, "inbox", "y")
        messages = await receive(ws, 4)
    assert [m["event"]["type"] for m in messages] == ["create", "update", "event", "delete"]
    assert messages[0]["id"] == "y" and messages[0]["event"]["data"] == {"id": "y", "title": "y"}
    assert messages[1]["event"]["data"] == {"id": "x", "title": "x2"}
    assert messages[2]["event"]["event"] == {"type": "typing", "data": {"user": "u"}}
    assert "id" not in messages[2]
    assert messages[3]["event"]["data"] == {"id": "y", "title": "y"}
    stamps = [sync["timestamp"]] + [m["timestamp"] for m in messages]
    assert stamps == sorted(set(stamps))


async def test_item_subscription_sees_only_its_item(server: ServerThread) -> None:
    todo = server.streams.todo
    server.call(todo.set, "inbox", "a", {"n": 1})
    async with connect(server) as item_ws, connect(server) as group_ws:
        await item_ws.send(join("todo", "inbox", "i", item="a"))
        await group_ws.send(join("todo", "inbox", "g"))
        sync = await receive_one(item_ws)
        assert sync["id"] == "a" and sync["event"] == {"type": "sync", "data": {"id": "a", "n": 1}}
        await receive_one(group_ws)
        server.call(todo.set, "inbox", "b", {"n": 2})
        server.call(todo.send, {"groupId": "inbox"}, {"type": "group-wide", "data": 1})
        server.call(todo.send, {"groupId": "inbox", "id": "a"}, {"type": "for-a", "data": 2})
        server.call(todo.set, "inbox", "a", {"n": 3})
        item_messages = await receive(item_ws, 2)
        group_messages = await receive(group_ws, 3)
    assert [m["event"]["type"] for m in item_messages] == ["event", "update"]
    assert item_messages[0]["event"]["event"]["type"] == "for-a"
    assert item_messages[1]["event"]["data"] == {"id": "a", "n": 3}
    assert [m["event"]["type"] for m in group_messages] == ["create", "event", "update"]
    assert group_messages[1]["event"]["event"]["type"] == "group-wide"


async def test_missing_item_syncs_null(server: ServerThread) -> None:
    async with connect(server) as ws:
        await ws.send(join("todo", "inbox", "s", item="nope"))
        assert (await receive_one(ws))["event"] == {"type": "sync", "data": None}


async def test_timestamps_strictly_increase_under_a_burst(server: ServerThread) -> None:
    async def burst() -> None:
        for index in range(150):
            await server.streams.todo.set("inbox", f"t{index}", {"n": index})
            await server.streams.notes.set("other", f"n{index}", {"n": index})

    async with connect(server) as ws:
        await ws.send(join("todo", "inbox", "a"))
        await ws.send(join("notes", "other", "b"))
        await ws.send(join("todo", "inbox", "c", item="t5"))
        await receive(ws, 3)
        server.call(burst)
        messages = await receive(ws, 300)
    stamps = [m["timestamp"] for m in messages]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert sorted(m["id"] for m in messages if m["streamName"] == "todo") == sorted(
        f"t{i}" for i in range(150)
    )


class SlowSnapshotStore(MemoryStore):
    """Snapshots that leave room for writes before and after the read."""

    async def snapshot(self, namespace: str, group_id: str) -> Any:
        await asyncio.sleep(0.02)
        result = await super().snapshot(namespace, group_id)
        await asyncio.sleep(0.02)
        return result


async def test_join_racing_writers_has_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    with ServerThread(build_app(tmp_path, store=SlowSnapshotStore())) as server:
        todo = server.streams.todo

        async def writers() -> None:
            async def write(index: int) -> None:
                await asyncio.sleep(index * 0.0003)
                await todo.update(
                    "inbox", f"k{index % 20}", [{"type": "increment", "path": "n", "by": 1}]
                )
                if index % 7 == 0:
                    await todo.delete("inbox", f"k{(index + 3) % 20}")

            await asyncio.gather(*(write(i) for i in range(200)))

        view: dict[str, Any] = {}
        async with connect(server) as ws:
            future = asyncio.run_coroutine_threadsafe(writers(), server.loop)  # type: ignore[arg-type]
            await ws.send(join("todo", "inbox", "s"))
            sync = await receive_one(ws)
            view = {item["id"]: item for item in sync["event"]["data"]}
            await anyio.to_thread.run_sync(future.result, 10)
            final = {item["id"]: item for item in server.call(todo.get_group, "inbox")}
            with anyio.fail_after(5):
                while view != final:
                    message = json.loads(await ws.recv())
                    kind, data = message["event"]["type"], message["event"]["data"]
                    if kind == "create":
                        assert data["id"] not in view, "duplicate create"
                    if kind == "delete":
                        assert view.pop(data["id"]) is not None
                    else:
                        view[data["id"]] = data
        assert view == final


async def test_unknown_stream_and_refused_join(server: ServerThread) -> None:
    async with connect(server) as ws:
        await ws.send(join("nope", "inbox", "s1"))
        await ws.send(join("todo", "secret", "s2"))
        not_found, denied = await receive(ws, 2)
    assert not_found["streamName"] == "nope" and not_found["groupId"] == "inbox"
    assert not_found["event"] == {
        "type": "event",
        "event": {
            "type": "error",
            "data": {"code": "STREAM_NOT_FOUND", "message": "Stream nope not found"},
        },
    }
    assert denied["event"]["event"]["data"] == {
        "code": "STREAM_ACCESS_DENIED",
        "message": "Access denied",
    }
    assert set(denied) == {"timestamp", "streamName", "groupId", "event"}
    assert server.motia.runtime.hub.topics.get(("stream:todo", "secret")) is None


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"type": "join", "data": {"streamName": "todo"}}',
        '{"type": "dance", "data": {"streamName": "todo", "groupId": "inbox"}}',
        b"\x00binary",
    ],
)
async def test_malformed_frame_gets_an_error_and_keeps_the_socket(
    server: ServerThread, frame: str | bytes
) -> None:
    async with connect(server) as ws:
        await ws.send(join("todo", "inbox", "s"))
        await receive_one(ws)
        await ws.send(frame)
        error = await receive_one(ws)
        assert error["event"]["event"]["type"] == "error"
        assert error["event"]["event"]["data"]["code"] == "INVALID_MESSAGE"
        server.call(server.streams.todo.set, "inbox", "after", {})
        assert (await receive_one(ws))["event"]["type"] == "create"


async def test_token_from_subprotocol_query_and_bearer_header(server: ServerThread) -> None:
    async with connect(server, subprotocols=["Authorization", "t1"]) as ws:
        assert ws.subprotocol == "Authorization"
        await ws.send(join("todo", "inbox", "s"))
        await receive_one(ws)
    async with connect(server, "/streams?authToken=t2") as ws:
        assert ws.subprotocol is None
    async with connect(server, additional_headers={"Authorization": "Bearer t3"}) as ws:
        pass
    assert [r.token for r in AUTH_REQUESTS] == ["t1", "t2", "t3"]
    request = AUTH_REQUESTS[1]
    assert request.path == "/streams" and request.query_params == {"authToken": "t2"}
    assert request.client is not None and request.client[0] == "127.0.0.1"
    assert request.headers["host"].startswith("127.0.0.1")
    assert "t1" not in repr(AUTH_REQUESTS[0]) and "t3" not in repr(AUTH_REQUESTS[2])
    assert AUTH_REQUESTS[2].headers["authorization"] == "Bearer t3"
    assert HOOK_CALLS[0][4] == {"user": "t1"}


@pytest.mark.parametrize("token", ["bad", "false"])
async def test_refused_auth_closes_with_4401(server: ServerThread, token: str) -> None:
    async with connect(server, subprotocols=["Authorization", token]) as ws:
        assert ws.subprotocol == "Authorization"
        with pytest.raises(ConnectionClosed), anyio.fail_after(5):
            await ws.recv()
    assert ws.close_code == 4401


async def test_on_leave_runs_once_per_subscription(server: ServerThread) -> None:
    async with connect(server) as ws:
        for sub in ("a", "b", "c"):
            await ws.send(join("todo", "inbox", sub, item=sub if sub == "c" else None))
        await receive(ws, 3)
        await ws.send(leave("todo", "inbox", "b"))
        await ws.send(leave("todo", "inbox", "b"))
        await ws.send(join("todo", "inbox", "d"))
        await receive_one(ws)
    await wait_for(server.idle)
    leaves = sorted(call[3] for call in HOOK_CALLS if call[0] == "leave")
    assert leaves == ["a", "b", "c", "d"]
    assert ("leave", "inbox", "c", "c", {"user": None}) in HOOK_CALLS


async def test_slow_subscriber_is_closed_and_fast_one_gets_everything(tmp_path: Path) -> None:
    settings = Settings(max_stream_buffer=256 * 1024)
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        big = "x" * 20_000

        async def burst(start: int, count: int) -> None:
            for index in range(start, start + count):
                await server.streams.todo.set("inbox", f"k{index}", {"blob": big})
                await asyncio.sleep(0)

        async with (
            connect(server, max_queue=1, compression=None, sock=small_socket(server)) as slow,
            connect(server) as fast,
        ):
            for ws in (slow, fast):
                await ws.send(join("todo", "inbox", "s"))
                await receive_one(ws)
            received = 0

            async def read_fast() -> None:
                nonlocal received
                while received < 1000:
                    await receive_one(fast, deadline=20)
                    received += 1

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(read_fast)
                for start in range(0, 1000, 100):
                    await anyio.to_thread.run_sync(
                        lambda s=start: server.call(burst, s, 100, timeout=10)
                    )
            assert received == 1000
            assert server.motia.runtime.hub.stats.slow_closes == 1
            with pytest.raises(ConnectionClosed), anyio.fail_after(20):
                while True:
                    await slow.recv()


async def test_shutdown_closes_open_sockets(tmp_path: Path) -> None:
    server = ServerThread(build_app(tmp_path))
    with server:
        async with connect(server) as ws:
            await ws.send(join("todo", "inbox", "s"))
            await receive_one(ws)
            await anyio.to_thread.run_sync(server.stop)
            with pytest.raises(ConnectionClosed), anyio.fail_after(5):
                await ws.recv()
    assert ws.close_code in (1001, 1012)
    assert ("leave", "inbox", None, "s", {"user": None}) in HOOK_CALLS
