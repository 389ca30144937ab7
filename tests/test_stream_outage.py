"""Subscribing while Redis is down: a clear refusal on each transport, one log line each,
no traceback, and subscriptions work again once Redis is back."""

from __future__ import annotations

import json
import logging

import anyio
import httpx
import pytest
import websockets
from redis_support import private_redis

from motia import Motia, StreamConfig
from motia.backends.redis import RedisStore

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _receive(ws: websockets.ClientConnection) -> dict:
    with anyio.fail_after(5):
        return json.loads(await ws.recv())


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "refused" in r.getMessage()]


async def test_subscribing_during_an_outage_is_refused_clearly(
    live_server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with private_redis() as redis_server:
        store = RedisStore(redis_server.url, prefix="outage:", ping_interval=0.5)
        app = Motia(None, streams=[StreamConfig(name="todo")], store=store)
        async with live_server(app.asgi()) as url:
            redis_server.stop()
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(url + "/streams/todo/inbox")
            assert response.status_code == 503
            assert response.json()["code"] == "STREAM_UNAVAILABLE"

            async with websockets.connect(url.replace("http", "ws") + "/streams") as ws:
                join = {"streamName": "todo", "groupId": "inbox", "subscriptionId": "s"}
                await ws.send(json.dumps({"type": "join", "data": join}))
                error = await _receive(ws)
                assert error["event"]["event"]["type"] == "error"
                assert error["event"]["event"]["data"]["code"] == "STREAM_UNAVAILABLE"
                assert (error["streamName"], error["groupId"]) == ("todo", "inbox")

                redis_server.start()
                with anyio.fail_after(15):
                    while True:  # the socket stays open: the same join works once Redis is back
                        await ws.send(json.dumps({"type": "join", "data": join}))
                        message = await _receive(ws)
                        if message["event"]["type"] == "sync":
                            break
                        await anyio.sleep(0.2)

    refusals = _refusals(caplog)
    assert refusals[:2] and all(r.levelno == logging.WARNING for r in refusals)
    assert all(r.exc_info is None for r in refusals)
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith(("motia", "uvicorn"))]
