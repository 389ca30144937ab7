"""Stream messages written as ready-made frames straight to uvicorn's transport."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import websockets
from stream_server import (
    ServerThread,
    build_app,
    join,
    receive,
    receive_one,
    small_socket,
    wait_for,
)
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from motia._realtime.frame_writer import text_frame
from motia.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_text_frame_is_what_a_client_parses(size: int) -> None:
    text = ("é" * size)[: max(size - size // 3, 0)] + "x" * (size // 3)
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    assert frame.opcode is Opcode.TEXT and frame.fin and frame.data.decode() == text


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with ServerThread(build_app(tmp_path)) as running:
        yield running


def connect(server: ServerThread, **kwargs: Any) -> Any:
    return websockets.connect(server.ws_url + "/streams", open_timeout=5, close_timeout=2, **kwargs)


def sinks(server: ServerThread) -> list[Any]:
    return list(server.motia.runtime.hub.sinks)


async def test_uncompressed_sockets_get_frames_and_compressed_ones_asgi(
    server: ServerThread,
) -> None:
    todo = server.streams.todo
    async with connect(server, compression=None) as plain, connect(server) as deflated:
        for ws in (plain, deflated):
            await ws.send(join("todo", "inbox", "s"))
            assert (await receive_one(ws))["event"]["type"] == "sync"
        by_compression = {sink.writes_frames for sink in sinks(server)}
        assert by_compression == {True, False}
        for index in range(3):
            server.call(todo.set, "inbox", f"k{index}", {"n": index})
        server.call(todo.send, {"groupId": "inbox"}, {"type": "ping", "data": "é"})
        plain_messages, deflated_messages = await receive(plain, 4), await receive(deflated, 4)
    assert plain_messages == deflated_messages
    assert [m["event"]["type"] for m in plain_messages] == ["create"] * 3 + ["event"]


async def test_a_reader_that_falls_behind_gets_everything_in_order(tmp_path: Path) -> None:
    settings = Settings(max_stream_buffer=64 * 1024 * 1024)
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        todo = server.streams.todo
        blob = "x" * 16_000
        sock = small_socket(server)
        async with connect(server, compression=None, max_queue=1, sock=sock) as ws:
            await ws.send(join("todo", "inbox", "s"))
            await receive_one(ws)
            [sink] = sinks(server)
            assert sink.writes_frames

            async def burst() -> None:
                for index in range(600):
                    await todo.set("inbox", f"k{index}", {"i": index, "blob": blob})
                    if index % 50 == 0:
                        await asyncio.sleep(0)

            server.call(burst, timeout=20)
            # The client has read nothing: the socket is full and the rest waits in the sink.
            assert sink._queued > 0
            messages = await receive(ws, 600, deadline=20)
        assert [m["event"]["data"]["i"] for m in messages] == list(range(600))
        stamps = [m["timestamp"] for m in messages]
        assert stamps == sorted(set(stamps))
        assert server.motia.runtime.hub.stats.slow_closes == 0


async def test_middleware_keeps_the_asgi_path(tmp_path: Path) -> None:
    from starlette.middleware.gzip import GZipMiddleware

    app = build_app(tmp_path)
    app.asgi().add_middleware(GZipMiddleware)
    with ServerThread(app) as server:
        async with connect(server, compression=None) as ws:
            await ws.send(join("todo", "inbox", "s"))
            await receive_one(ws)
            await wait_for(lambda: len(sinks(server)) == 1)
            assert not sinks(server)[0].writes_frames
            server.call(server.streams.todo.set, "inbox", "a", {"n": 1})
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["event"]["type"] == "create"
