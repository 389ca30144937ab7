"""A stream write in one process reaches WebSocket subscribers of another, exactly once."""

from __future__ import annotations

import json

import anyio
import pytest
import websockets
from redis_support import DisposableRedisStore, kill_feed_connection, require_redis, unique_prefix

from motia import Motia, StreamConfig
from motia.backends.redis import RedisStore

pytestmark = pytest.mark.anyio


def _app(store: RedisStore) -> Motia:
    return Motia(None, streams=[StreamConfig(name="todo")], store=store)


async def _receive(ws: websockets.ClientConnection) -> dict:
    with anyio.fail_after(5):
        return json.loads(await ws.recv())


async def test_a_write_on_one_process_reaches_subscribers_on_both_once(live_server) -> None:
    require_redis()
    prefix = unique_prefix()
    writer_store = DisposableRedisStore(prefix=prefix)
    writer, watcher = _app(writer_store), _app(RedisStore(writer_store.url, prefix=prefix))
    async with live_server(writer.asgi()) as writer_url, live_server(watcher.asgi()) as url:
        sockets = [
            await websockets.connect(base.replace("http", "ws") + "/streams", open_timeout=5)
            for base in (url, writer_url)
        ]
        try:
            for index, ws in enumerate(sockets):
                join = {"streamName": "todo", "groupId": "inbox", "subscriptionId": f"s{index}"}
                await ws.send(json.dumps({"type": "join", "data": join}))
                assert (await _receive(ws))["event"] == {"type": "sync", "data": []}
            await writer.runtime.streams["todo"].set("inbox", "a", {"title": "x"})
            for ws in sockets:
                message = await _receive(ws)
                assert (message["id"], message["event"]["type"]) == ("a", "create")
                assert message["event"]["data"] == {"title": "x", "id": "a"}
                with pytest.raises(TimeoutError), anyio.fail_after(0.3):
                    await ws.recv()  # nothing more: no duplicate
        finally:
            for ws in sockets:
                await ws.close()


async def test_a_lost_feed_connection_sends_subscribers_a_fresh_sync(live_server) -> None:
    require_redis()
    store = DisposableRedisStore()
    app = _app(store)
    async with live_server(app.asgi()) as url:
        async with websockets.connect(url.replace("http", "ws") + "/streams") as ws:
            join = {"streamName": "todo", "groupId": "inbox", "subscriptionId": "s"}
            await ws.send(json.dumps({"type": "join", "data": join}))
            assert (await _receive(ws))["event"] == {"type": "sync", "data": []}
            await kill_feed_connection(store)
            resync = await _receive(ws)
            assert resync["event"] == {"type": "sync", "data": []}
            await app.runtime.streams["todo"].set("inbox", "a", {"title": "x"})
            assert (await _receive(ws))["event"]["type"] == "create"
