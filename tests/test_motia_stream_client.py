"""Motia's ``motia.stream_client.StreamClient`` against this runtime's stream WebSocket:
live state of an item and of a group, ephemeral events, leaving, and rejoining after the
server comes back. Every wait has a deadline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from stream_server import AUTH_REQUESTS, HOOK_CALLS, ServerThread, build_app

from motia.stream_client import StreamClient

pytestmark = pytest.mark.anyio


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.01)


def on_server(server: ServerThread, call: Callable[[Any], Any]) -> Any:
    async def run() -> Any:
        return await call(server.streams.todo)

    return server.call(run)


async def test_an_item_and_a_group_follow_the_server(tmp_path: Path) -> None:
    with ServerThread(build_app(tmp_path)) as server:
        on_server(server, lambda todo: todo.set("inbox", "b", {"title": "b"}))
        client = StreamClient(server.ws_url)
        await client.connect()
        try:
            group = client.subscribe_group("todo", "inbox", sort_key="title")
            item = client.subscribe_item("todo", "inbox", "a")
            changes: list[Any] = []
            item.add_change_listener(changes.append)
            events: list[Any] = []
            group.on_event("typing", events.append)
            await until(lambda: group.get_state() == [{"id": "b", "title": "b"}])

            on_server(server, lambda todo: todo.set("inbox", "a", {"title": "a"}))
            await until(lambda: [i["id"] for i in group.get_state()] == ["a", "b"])
            await until(lambda: item.get_state() == {"id": "a", "title": "a"})

            on_server(
                server, lambda todo: todo.send({"groupId": "inbox"}, {"type": "typing", "data": 1})
            )
            await until(lambda: events == [1])

            on_server(server, lambda todo: todo.delete("inbox", "a"))
            await until(lambda: group.get_state() == [{"id": "b", "title": "b"}])
            await until(lambda: item.get_state() is None)
            assert changes[-2:] == [{"id": "a", "title": "a"}, None]
        finally:
            await client.disconnect()


async def test_closing_the_client_leaves_every_subscription(tmp_path: Path) -> None:
    with ServerThread(build_app(tmp_path)) as server:
        client = StreamClient(server.ws_url)
        await client.connect()
        group = client.subscribe_group("todo", "inbox")
        await until(lambda: ("join", "inbox", None) in [call[:3] for call in HOOK_CALLS])
        client.close()
        await until(lambda: ("leave", "inbox", None) in [call[:3] for call in HOOK_CALLS])
        assert group.sub.subscription_id in [call[3] for call in HOOK_CALLS if call[0] == "leave"]
        await until(lambda: client._ws is None)


async def test_subscriptions_join_again_when_the_server_comes_back(tmp_path: Path) -> None:
    first = ServerThread(build_app(tmp_path))
    with first:
        client = StreamClient(first.ws_url, reconnect_delay=0.05)
        group = client.subscribe_group("todo", "inbox")
        on_server(first, lambda todo: todo.set("inbox", "old", {"n": 1}))
        await until(lambda: group.get_state() == [{"id": "old", "n": 1}])
    try:
        with ServerThread(build_app(tmp_path), port=first.port) as second:
            on_server(second, lambda todo: todo.set("inbox", "new", {"n": 2}))
            await until(lambda: group.get_state() == [{"id": "new", "n": 2}])
    finally:
        await client.disconnect()


def test_subscribing_outside_async_code_says_so() -> None:
    with pytest.raises(RuntimeError, match="requires a running event loop"):
        StreamClient("ws://127.0.0.1:1").subscribe_group("todo", "inbox")


async def test_a_token_reaches_the_stream_auth_hook(tmp_path: Path) -> None:
    with ServerThread(build_app(tmp_path)) as server:
        client = StreamClient(server.ws_url, token="alice")
        await client.connect()
        try:
            group = client.subscribe_group("todo", "inbox")
            await until(lambda: [call[4] for call in HOOK_CALLS] == [{"user": "alice"}])
            assert group.get_state() == []
            assert [request.token for request in AUTH_REQUESTS] == ["alice"]
        finally:
            await client.disconnect()


async def test_a_client_disconnected_while_the_server_is_away_stays_disconnected(
    tmp_path: Path,
) -> None:
    first = ServerThread(build_app(tmp_path))
    with first:
        client = StreamClient(first.ws_url, reconnect_delay=0.01)
        client.subscribe_group("todo", "inbox")
        await until(lambda: len(HOOK_CALLS) == 1)
    await anyio.sleep(0.05)  # a few reconnect attempts against nothing
    await client.disconnect()
    with ServerThread(build_app(tmp_path), port=first.port):
        await anyio.sleep(0.3)  # many times reconnect_delay
        assert HOOK_CALLS == [] and client._ws is None
