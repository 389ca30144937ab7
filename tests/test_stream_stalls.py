"""Clients that stop reading or read too slowly, on real sockets: nothing waits on them.

A stalled client is a raw socket with a small receive buffer that reads the head of
the response and then never reads again, without closing. The server runs in its own
thread (``ServerThread``), so the blocking sockets here never hold it up.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from stream_server import HOOK_CALLS, ServerThread, build_app, join, small_socket
from websockets.exceptions import ConnectionClosed

from motia import Motia, cli, http, step
from motia.exceptions import BuildError
from motia.server import ServeOptions, _uvicorn_config
from motia.settings import Settings
from motia.sse import SSEParser

SEND_TIMEOUT = 1.0
BLOB = "x" * 20_000


def until(predicate: Callable[[], bool], deadline: float, what: str) -> float:
    """Poll ``predicate`` until true; the seconds it took. Fails after ``deadline`` seconds."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > deadline:
            raise AssertionError(f"{what}: not within {deadline} s")
        time.sleep(0.005)
    return time.monotonic() - start


def stalled_get(server: ServerThread, path: str) -> tuple[socket.socket, bytes]:
    """GET ``path`` on a socket with a 4 KiB receive buffer; returns it once the head is in."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nhost: t\r\naccept: text/event-stream\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(1024)
        assert chunk, f"the connection closed before the head: {received!r}"
        received += chunk
    return sock, received


def is_reset(sock: socket.socket) -> bool:
    """Whether the server reset the connection (reading what is left, with a deadline)."""
    sock.settimeout(2)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True  # an orderly end is a close too


def connections(server: ServerThread) -> int:
    return len(server.server.server_state.connections)


class Pusher:
    """Writes 20 KB stream items from a thread until stopped (the stalled client's feed)."""

    def __init__(self, server: ServerThread, group: str = "inbox") -> None:
        self.server = server
        self.group = group
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        index = 0
        while not self.stop.is_set():
            self.server.call(self.server.streams.todo.set, self.group, f"k{index}", {"b": BLOB})
            index += 1
            time.sleep(0.002)

    def __enter__(self) -> Pusher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


# -- 1. a stalled client is dropped after the send timeout ---------------------------------


def step_app(handler: Any, settings: Settings, **trigger: Any) -> Motia:
    definition = step({"name": "Events", "triggers": [http("GET", "/events", **trigger)]}, handler)
    return Motia(steps_dir=None, steps=[definition], store="memory", settings=settings)


@pytest.fixture
def ended() -> Iterator[list[float]]:
    times: list[float] = []
    yield times


@pytest.mark.parametrize("how", ["send", "write"])
def test_a_stalled_client_cancels_the_step_and_is_reset_within_the_send_timeout(
    how: str, ended: list[float]
) -> None:
    async def handler(args: Any) -> None:
        response = args.response
        await response.headers({"content-type": "text/event-stream"})
        try:
            while True:
                if how == "send":
                    await response.send(data="x" * 1000)  # waits while the client is behind
                else:
                    response.stream.write("data: " + "x" * 64_000 + "\n\n")  # never waits
                    await asyncio.sleep(0.002)
        finally:
            ended.append(time.monotonic())

    # The app never gives up on its own; the trigger's override does. The buffer limit is
    # far away: the client is not slow, it stopped.
    settings = Settings(send_timeout=0, max_stream_buffer=512 * 1024 * 1024)
    app = step_app(handler, settings, send_timeout=SEND_TIMEOUT)
    with ServerThread(app) as server:
        sock, head = stalled_get(server, "/events")
        stopped_reading = time.monotonic()
        assert head.startswith(b"HTTP/1.1 200")
        until(lambda: bool(ended), SEND_TIMEOUT + 1, "the handler's finally")
        assert ended[0] - stopped_reading <= SEND_TIMEOUT + 1
        until(lambda: connections(server) == 0, SEND_TIMEOUT + 1 - (time.monotonic() -
              stopped_reading), "the connection freed")  # fmt: skip
        stats = app.runtime.stats
        until(lambda: stats.open_streams == 0, 0.5, "the stream no longer counted as open")
        assert is_reset(sock)
        assert (stats.stalled_closes, stats.slow_closes) == (1, 0)
        until(server.idle, 2, "every request's task ended")
        sock.close()


def test_a_trigger_send_timeout_must_be_seconds() -> None:
    async def handler(args: Any) -> None:
        return None

    with pytest.raises(BuildError, match="send_timeout must be a number of seconds"):
        step_app(handler, Settings(), send_timeout=-1)


def test_a_stalled_event_stream_subscriber_is_reset_within_the_send_timeout(
    tmp_path: Path,
) -> None:
    settings = Settings(send_timeout=SEND_TIMEOUT, max_stream_buffer=256 * 1024 * 1024)
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        sock, _ = stalled_get(server, "/streams/todo/inbox")
        stopped_reading = time.monotonic()
        stats = server.motia.runtime.stats
        with Pusher(server):
            until(lambda: stats.stalled_closes == 1, SEND_TIMEOUT + 1, "the stall noticed")
            until(lambda: connections(server) == 0, 1, "the connection freed")
        assert time.monotonic() - stopped_reading <= SEND_TIMEOUT + 1.5
        assert is_reset(sock)
        assert stats.slow_closes == 0
        until(lambda: any(call[0] == "leave" for call in HOOK_CALLS), 2, "on_leave")
        assert not server.motia.runtime.hub.sinks
        sock.close()


@pytest.mark.anyio
async def test_a_stalled_websocket_subscriber_is_reset_within_the_send_timeout(
    tmp_path: Path,
) -> None:
    settings = Settings(send_timeout=SEND_TIMEOUT, max_stream_buffer=256 * 1024 * 1024)
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        stats = server.motia.runtime.stats
        async with websockets.connect(
            server.ws_url, max_queue=1, compression=None, sock=small_socket(server)
        ) as stalled:
            await stalled.send(join("todo", "inbox", "s"))
            await asyncio.wait_for(stalled.recv(), 5)  # the sync; then it reads no more
            stopped_reading = time.monotonic()
            with Pusher(server):
                await asyncio.to_thread(
                    until, lambda: stats.stalled_closes == 1, SEND_TIMEOUT + 1, "the stall"
                )
                await asyncio.to_thread(until, lambda: connections(server) == 0, 1, "freed")
            assert time.monotonic() - stopped_reading <= SEND_TIMEOUT + 1.5
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:
                        await stalled.recv()
        assert stats.slow_closes == 0
        assert ("leave", "inbox", None, "s", {"user": None}) in HOOK_CALLS


# -- 2. a slow consumer is told why, then closed ------------------------------------------


@pytest.mark.anyio
async def test_a_slow_websocket_subscriber_gets_1008_with_the_reason(tmp_path: Path) -> None:
    settings = Settings(max_stream_buffer=256 * 1024)
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        stats = server.motia.runtime.stats
        async with websockets.connect(
            server.ws_url, max_queue=1, compression=None, sock=small_socket(server)
        ) as slow:
            await slow.send(join("todo", "inbox", "s"))
            await asyncio.wait_for(slow.recv(), 5)
            with Pusher(server):
                await asyncio.to_thread(until, lambda: stats.slow_closes == 1, 10, "slow close")
            with pytest.raises(ConnectionClosed):  # it reads again: the close frame comes last
                async with asyncio.timeout(10):
                    while True:
                        await slow.recv()
        assert slow.close_code == 1008
        assert "reads too slowly" in (slow.close_reason or "")
        assert stats.stalled_closes == 0


def test_a_slow_event_stream_subscriber_gets_an_error_event_with_a_code(tmp_path: Path) -> None:
    settings = Settings(max_stream_buffer=256 * 1024)
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        stats = server.motia.runtime.stats
        sock, head = stalled_get(server, "/streams/todo/inbox")
        with Pusher(server):
            until(lambda: stats.slow_closes == 1, 10, "the slow close")
        body = head.partition(b"\r\n\r\n")[2] + read_to_end(sock)
        assert body.endswith(b"0\r\n\r\n")  # the body ended in order
        events = SSEParser().feed(unchunk(body))
        assert events[-1].event == "error"
        assert events[-1].json()["code"] == "SLOW_CONSUMER"
        sock.close()


def read_to_end(sock: socket.socket, deadline: float = 10) -> bytes:
    sock.settimeout(deadline)
    received = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(received)
        received.append(chunk)
    raise AssertionError("the connection stayed open")


def unchunk(body: bytes) -> bytes:
    """The payload of a chunked HTTP body."""
    payload, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        payload.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(payload)


# -- 4. the heartbeat interval holds on every event stream --------------------------------


def ping_times(sock: socket.socket, seconds: float) -> list[float]:
    """When each ``: ping`` arrived, over ``seconds``."""
    times: list[float] = []
    end = time.monotonic() + seconds
    tail = b""
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        assert chunk, "the stream ended"
        window = tail + chunk
        times += [time.monotonic()] * window.count(b": ping")
        tail = window[-6:]
    return times


@pytest.mark.parametrize("path", ["/streams/todo/inbox", "/events"])
def test_an_idle_event_stream_pings_every_heartbeat_interval(tmp_path: Path, path: str) -> None:
    async def handler(args: Any) -> None:
        await args.response.headers({"content-type": "text/event-stream"})
        args.response.stream.write("event: ready\ndata: 1\n\n")
        await args.response.wait_closed()

    interval = 0.25
    events = step({"name": "Events", "triggers": [http("GET", "/events")]}, handler)
    app = build_app(tmp_path, settings=Settings(heartbeat_interval=interval), steps=[events])
    with ServerThread(app) as server:
        sock, _ = stalled_get(server, path)
        opened = time.monotonic()
        times = ping_times(sock, 8 * interval)
        sock.close()
    gaps = [later - earlier for earlier, later in zip([opened, *times], times, strict=False)]
    assert len(times) >= 6, times
    assert max(gaps) <= interval * 1.6, gaps


def test_frames_sent_more_often_than_the_heartbeat_need_no_ping(tmp_path: Path) -> None:
    """Silence counts from the last frame, including frames written straight to the socket."""
    interval, ticks = 0.25, 10

    async def handler(args: Any) -> None:
        await args.response.headers({"content-type": "text/event-stream"})
        for n in range(ticks):
            await args.response.send(event="tick", data=f"{n}")
            await asyncio.sleep(interval / 2)
        await args.response.wait_closed()

    events = step({"name": "Events", "triggers": [http("GET", "/events")]}, handler)
    app = build_app(tmp_path, settings=Settings(heartbeat_interval=interval), steps=[events])
    with ServerThread(app) as server:
        sock, received = stalled_get(server, "/events")
        end = time.monotonic() + ticks * interval / 2 + 3 * interval
        while (left := end - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                received += sock.recv(65536)
            except TimeoutError:
                break
        sock.close()
    last_tick = received.index(f"data: {ticks - 1}".encode())
    assert b": ping" not in received[:last_tick], received
    assert b": ping" in received[last_tick:], received


# -- 5. an event stream's head goes out when the handler declares it ----------------------


def test_a_declared_event_stream_opens_before_its_first_write() -> None:
    leave = threading.Event()

    async def handler(args: Any) -> None:
        await args.response.status(202)
        await args.response.headers({"content-type": "text/event-stream"})
        await args.response.headers({"x-job": "7"})  # in the same breath: still in the head
        while not leave.is_set():  # thinking: nothing to send yet
            await asyncio.sleep(0.01)
        raise RuntimeError("the job failed")

    app = step_app(handler, Settings(heartbeat_interval=15))
    with ServerThread(app) as server:
        start = time.monotonic()
        sock, head = stalled_get(server, "/events")
        assert time.monotonic() - start < 1
        lines = head.decode().lower().split("\r\n")
        assert lines[0] == "http/1.1 202 accepted"
        assert "content-type: text/event-stream" in lines and "x-job: 7" in lines
        assert "cache-control: no-cache" in lines
        leave.set()
        body = head.partition(b"\r\n\r\n")[2] + read_to_end(sock)
        sock.close()
    (error,) = SSEParser().feed(unchunk(body))
    assert error.event == "error" and error.json()["message"] == "Internal Server Error"


def test_status_after_the_head_went_out_is_a_clear_error() -> None:
    errors: list[str] = []

    async def handler(args: Any) -> None:
        await args.response.headers({"content-type": "text/event-stream"})
        await asyncio.sleep(0.05)
        try:
            await args.response.status(500)
        except Exception as exc:
            errors.append(str(exc))
        args.response.close()

    with ServerThread(step_app(handler, Settings())) as server:
        sock, head = stalled_get(server, "/events")
        read_to_end(sock)
        sock.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert errors == [
        "response.status() called after the head of the event stream went out; set status "
        "and headers before the handler awaits anything once it has declared "
        "text/event-stream"
    ]


def test_the_send_timeout_comes_from_the_cli_and_from_dict_configs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(cli, "serve", served.append)
    assert cli.main(["start", "--project", str(tmp_path), "--send-timeout", "7"]) == 0
    assert Settings(**served[0].settings).send_timeout == 7

    async def handler(args: Any) -> None:
        return None

    trigger = {"type": "http", "method": "GET", "path": "/e", "sendTimeout": 2}
    app = Motia(steps_dir=None, steps=[step({"name": "E", "triggers": [trigger]}, handler)])
    (route,) = app.registry.http_routes()
    assert route.trigger.send_timeout == 2


def test_a_slow_client_of_a_plain_streamed_body_is_reset(ended: list[float]) -> None:
    async def handler(args: Any) -> None:
        try:
            while True:
                args.response.stream.write(b"x" * 65536)  # not an event stream: no error event
                await asyncio.sleep(0)
        finally:
            ended.append(time.monotonic())

    app = step_app(handler, Settings(max_stream_buffer=256 * 1024))
    with ServerThread(app) as server:
        sock, _ = stalled_get(server, "/events")
        until(lambda: app.runtime.stats.slow_closes == 1, 10, "the slow close")
        until(lambda: bool(ended), 1, "the handler's finally")
        until(lambda: connections(server) == 0, 1, "the connection reset")
        assert is_reset(sock)
        sock.close()


# -- 10. a woken stream's write goes out at once ------------------------------------------


def test_a_write_to_an_idle_stream_reaches_the_client_before_the_handler_goes_on() -> None:
    """Nothing defers it to a later loop turn: the frame is on the wire while the handler
    still holds the loop (here, blocking it on purpose)."""
    wake = threading.Event()
    held: list[float] = []

    async def handler(args: Any) -> None:
        await args.response.headers({"content-type": "text/event-stream"})
        args.response.stream.write("event: ready\ndata: 1\n\n")
        while not wake.is_set():
            await asyncio.sleep(0.005)
        args.response.stream.write("event: item\ndata: 1\n\n")
        time.sleep(0.5)  # the loop is held: only a write already sent can reach the client
        held.append(time.monotonic())
        await args.response.wait_closed()

    with ServerThread(step_app(handler, Settings())) as server:
        sock, head = stalled_get(server, "/events")
        received = head
        while b"event: ready" not in received:
            received += sock.recv(4096)
        wake.set()
        sock.settimeout(5)
        while b"event: item" not in received:
            received += sock.recv(4096)
        arrived = time.monotonic()
        until(lambda: bool(held), 5, "the handler's sleep")
        sock.close()
    assert arrived < held[0]


def test_motia_start_pings_websockets_at_the_heartbeat_interval() -> None:
    options = ServeOptions(settings={"heartbeat_interval": 4.0})
    assert _uvicorn_config(object(), options).ws_ping_interval == 4.0
    quiet = ServeOptions(settings={"heartbeat_interval": 0})
    assert _uvicorn_config(object(), quiet).ws_ping_interval is None
