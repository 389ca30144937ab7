"""Stream messages written as ready-made frames straight to uvicorn's transport."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
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

from motia._realtime.frame_writer import frame_transport, text_frame
from motia.settings import Settings

pytestmark = pytest.mark.anyio

SANSIO = importlib.util.find_spec("uvicorn.protocols.websockets.websockets_sansio_impl") is not None
"""Whether this uvicorn has the protocol that takes ready-made frames (0.35 and later)."""


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


# -- the fast path declines whatever it does not recognise ---------------------------------


class FakeConnection:
    def __init__(self) -> None:
        from websockets.protocol import OPEN

        self.state = OPEN
        self.extensions: list[Any] = []


class FakeTransport:
    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False


def sansio_send(**changes: Any) -> Any:
    """The bound ``send`` of a sansio protocol as uvicorn leaves it once the socket is
    open, without running its constructor; ``changes`` set (or, as ``DELETE``, remove)
    attributes."""
    impl = pytest.importorskip("uvicorn.protocols.websockets.websockets_sansio_impl")
    protocol = object.__new__(impl.WebSocketsSansIOProtocol)
    attributes = {"conn": FakeConnection(), "close_sent": False, "transport": FakeTransport()}
    for name, value in {**attributes, **changes}.items():
        if value is not DELETE:
            protocol.__dict__[name] = value
    return protocol.send


DELETE = object()


def test_an_open_uncompressed_sansio_connection_takes_frames() -> None:
    send = sansio_send()
    assert frame_transport(send) is send.__self__.transport


def connection_with(**changes: Any) -> FakeConnection:
    connection = FakeConnection()
    for name, value in changes.items():
        if value is DELETE:
            delattr(connection, name)
        else:
            setattr(connection, name, value)
    return connection


class Exploding:
    """A protocol attribute whose every access fails."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"{name} moved")


@pytest.mark.parametrize(
    "changes",
    [
        {"conn": DELETE},
        {"conn": None},
        {"conn": Exploding()},
        {"conn": connection_with(state="OPEN")},
        {"conn": connection_with(state=DELETE)},
        {"conn": connection_with(extensions=["permessage-deflate"])},
        {"conn": connection_with(extensions=DELETE)},
        {"conn": connection_with(extensions=())},
        {"close_sent": True},
        {"close_sent": DELETE},
        {"close_sent": 0},
        {"transport": DELETE},
        {"transport": None},
        {"transport": object()},
    ],
    ids=lambda changes: ",".join(f"{k}={type(v).__name__}" for k, v in changes.items()),
)
def test_a_sansio_connection_of_another_shape_declines(changes: dict[str, Any]) -> None:
    assert frame_transport(sansio_send(**changes)) is None


def test_other_servers_protocols_and_wrappers_decline() -> None:
    impl = pytest.importorskip("uvicorn.protocols.websockets.websockets_sansio_impl")

    class Subclass(impl.WebSocketsSansIOProtocol):  # type: ignore[misc, name-defined]
        pass

    subclassed = object.__new__(Subclass)
    subclassed.__dict__.update(sansio_send().__self__.__dict__)

    async def plain_send(message: Any) -> None: ...

    class OtherServer:
        conn, close_sent, transport = FakeConnection(), False, FakeTransport()

        async def send(self, message: Any) -> None: ...

    for send in (plain_send, OtherServer().send, subclassed.send, None, 42):
        assert frame_transport(send) is None


def test_without_uvicorn_or_websockets_it_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    send = sansio_send()
    for module in ("uvicorn.protocols.websockets.websockets_sansio_impl", "websockets.protocol"):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, module, None)  # import raises ImportError
            assert frame_transport(send) is None


# -- against a real uvicorn --------------------------------------------------------------


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
        assert by_compression == ({True, False} if SANSIO else {False})
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
            assert sink.writes_frames is SANSIO

            async def burst() -> None:
                for index in range(600):
                    await todo.set("inbox", f"k{index}", {"i": index, "blob": blob})
                    if index % 50 == 0:
                        await asyncio.sleep(0)

            server.call(burst, timeout=20)
            # The client has read nothing: the socket is full and the rest waits in the sink.
            assert sink.queued > 0
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
