"""Hostile stream clients: big and compressed messages, long names, many joins, foreign
pages, malformed frames. Real sockets on loopback, each test with deadlines."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import websockets
from stream_server import (
    AUTH_REQUESTS,
    HOOK_CALLS,
    ServerThread,
    build_app,
    join,
    leave,
    receive_one,
)
from support import REPO, motia_process
from websockets.exceptions import ConnectionClosed, InvalidStatus

from motia import Motia
from motia._realtime.origins import OriginPolicy
from motia.server import ServeOptions, _uvicorn_config
from motia.settings import Settings

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(build_app(tmp_path)) as running:
        yield running


def connect(server: ServerThread, **kwargs: Any) -> Any:
    return websockets.connect(server.ws_url, open_timeout=5, close_timeout=2, **kwargs)


def error_code(message: dict[str, Any]) -> str:
    assert message["event"]["type"] == "event", message
    assert message["event"]["event"]["type"] == "error", message
    return str(message["event"]["event"]["data"]["code"])


async def closed_code(ws: Any, deadline: float = 10.0) -> int | None:
    """The close code the server sent, reading (and dropping) anything before it."""
    with anyio.fail_after(deadline):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code


async def a_client_is_served(server: ServerThread, group: str = "inbox") -> None:
    async with connect(server) as ws:
        await ws.send(join("todo", group, "bystander"))
        assert (await receive_one(ws))["event"]["type"] == "sync"


def huge_join(size: int) -> str:
    """A join whose group name alone is ``size`` bytes: compresses about a thousandfold."""
    return join("todo", "g" * size, "s1")


# --- message size, compressed or not -----------------------------------------------------


def served_like_motia_start(tmp_path: Path, **settings: Any) -> ServerThread:
    """uvicorn configured by ``motia start`` (its WebSocket limits), in a thread."""
    motia = build_app(tmp_path, settings=Settings(**settings))
    config = _uvicorn_config(motia.asgi(), ServeOptions(settings=settings))
    options = {"ws_max_size": config.ws_max_size, "ws_per_message_deflate": True}
    return ServerThread(motia, **options)


async def test_a_compressed_15_mib_join_is_refused_once_16_kib_are_inflated(
    tmp_path: Path,
) -> None:
    with served_like_motia_start(tmp_path) as server:
        async with connect(server, max_size=None) as attacker:
            assert attacker.protocol.extensions, "the client must compress its messages"
            await attacker.send(huge_join(15 * MIB))
            # The server stops inflating at the limit: the socket closes with 1009.
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(a_client_is_served, server)
                assert await closed_code(attacker) == 1009
        stats = server.motia.runtime.stats
        assert stats.oversized_messages == 1
    assert not any(call[1].startswith("ggg") for call in HOOK_CALLS), "on_join never ran"


async def test_the_socket_itself_refuses_a_big_message_under_plain_uvicorn(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    # uvicorn's own default lets 16 MiB through: the app closes the socket itself.
    limit = Settings().max_stream_message
    async with connect(server, max_size=None) as attacker:
        await attacker.send(huge_join(3 * MIB))
        assert await closed_code(attacker) == 1009
    async with connect(server) as ws:
        # Fewer characters than the limit, more bytes: bytes count.
        await ws.send(json.dumps({"pad": "é" * (limit // 2 + 8)}, ensure_ascii=False))
        assert await closed_code(ws) == 1009
    assert server.motia.runtime.stats.oversized_messages == 2
    lines = [r.getMessage() for r in caplog.records if "1009" in r.getMessage()]
    assert lines == [f"closing a stream WebSocket (1009): a message over {limit} bytes"] * 2
    await a_client_is_served(server)


# --- names -------------------------------------------------------------------------------


async def test_names_longer_than_the_limit_make_the_frame_invalid(server: ServerThread) -> None:
    limit = Settings().max_stream_name
    async with connect(server) as ws:
        await ws.send(join("todo", "g" * limit, "s" * limit, "i" * limit))
        assert (await receive_one(ws))["event"] == {"type": "sync", "data": None}
        for name, group, sub, item in [
            ("t" * (limit + 1), "inbox", "s2", None),
            ("todo", "g" * (limit + 1), "s2", None),
            ("todo", "inbox", "s" * (limit + 1), None),
            ("todo", "inbox", "s2", "i" * (limit + 1)),
        ]:
            await ws.send(join(name, group, sub, item))
            error = await receive_one(ws)
            assert error_code(error) == "INVALID_MESSAGE"
            assert f"at most {limit} characters" in error["event"]["event"]["data"]["message"]
            assert all(len(error.get(key, "")) <= limit for key in ("streamName", "groupId"))
    assert [call[1] for call in HOOK_CALLS if call[0] == "join"] == ["g" * limit]


async def test_a_join_with_every_name_at_the_limit_fits_in_a_message(
    server: ServerThread,
) -> None:
    settings = Settings()
    widest = "\U0001f600" * settings.max_stream_name  # twelve bytes each, JSON-escaped
    frame = join(widest, widest, widest, widest)
    assert settings.max_stream_message * 3 // 4 < len(frame) <= settings.max_stream_message
    async with connect(server) as ws:
        await ws.send(frame)
        assert error_code(await receive_one(ws)) == "STREAM_NOT_FOUND"


async def test_an_event_subscription_with_a_long_name_gets_a_400(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    limit = Settings().max_stream_name
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{server.url}/streams/todo/{'g' * (limit + 1)}")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_SUBSCRIPTION"
    assert HOOK_CALLS == []
    assert server.motia.runtime.stats.invalid_messages == 1
    assert f"refused (400): stream, group and item names have at most {limit}" in caplog.text


# --- subscriptions per socket ------------------------------------------------------------


async def test_joins_beyond_the_cap_get_an_error_and_run_no_hook(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with ServerThread(build_app(tmp_path, settings=Settings(max_subscriptions=3))) as server:
        async with connect(server) as ws:
            for index in range(3):
                await ws.send(join("todo", f"g{index}", f"s{index}"))
                assert (await receive_one(ws))["event"]["type"] == "sync"
            await ws.send(join("todo", "g0", "s0"))  # a rejoin replaces, it does not add
            assert (await receive_one(ws))["event"]["type"] == "sync"
            for index in range(3, 6):
                await ws.send(join("todo", f"g{index}", f"s{index}"))
                refused = await receive_one(ws)
                assert error_code(refused) == "TOO_MANY_SUBSCRIPTIONS"
                assert refused["groupId"] == f"g{index}"
            server.call(server.streams.todo.set, "g2", "x", {})  # the others still hear
            assert (await receive_one(ws))["event"]["type"] == "create"
            await ws.send(leave("todo", "g1", "s1"))
            await ws.send(join("todo", "g9", "s9"))
            assert (await receive_one(ws))["event"]["type"] == "sync"
        joined = [call[1] for call in HOOK_CALLS if call[0] == "join"]
        assert joined == ["g0", "g1", "g2", "g0", "g9"]
        assert server.motia.runtime.stats.refused_subscriptions == 3
        lines = [r for r in caplog.records if "refusing more joins" in r.getMessage()]
        assert len(lines) == 1


async def test_a_socket_with_the_default_cap_full_is_released_when_it_closes(
    tmp_path: Path,
) -> None:
    cap = Settings().max_subscriptions
    with ServerThread(build_app(tmp_path)) as server:
        hub = server.motia.runtime.hub
        async with connect(server) as ws:
            with anyio.fail_after(60):
                for index in range(cap + 20):
                    await ws.send(join("notes", f"g{index}", f"s{index}"))
                answers = [json.loads(await ws.recv()) for _ in range(cap + 20)]
            kinds = [a["event"]["type"] for a in answers]
            assert kinds == ["sync"] * cap + ["event"] * 20
            assert {error_code(a) for a in answers[cap:]} == {"TOO_MANY_SUBSCRIPTIONS"}
            assert sum(len(t.members) for t in list(hub.topics.values())) == cap
            await a_client_is_served(server)
        with anyio.fail_after(10):  # each on_leave takes its turn: released soon, not at once
            while hub.sinks or any(t.members for t in list(hub.topics.values())):
                await anyio.sleep(0.01)
        assert len(hub.topics) <= hub.idle_topics


# --- origins -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "admitted"),
    [
        (None, True),
        ("http://localhost:5173", True),
        ("http://127.0.0.1:8080", True),
        ("http://[::1]:3000", True),
        ("https://app.example.com", True),
        ("https://evil.example", False),
        ("http://localhost.evil.example", False),
        ("null", False),
    ],
)
async def test_websocket_origins(tmp_path: Path, origin: str | None, admitted: bool) -> None:
    settings = Settings(stream_origins=("https://app.example.com/",))
    with ServerThread(build_app(tmp_path, settings=settings)) as server:
        if admitted:
            async with connect(server, origin=origin) as ws:
                await ws.send(join("todo", "inbox", "s1"))
                assert (await receive_one(ws))["event"]["type"] == "sync"
        else:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(server, origin=origin):
                    pass
            assert refused.value.response.status_code == 403
            assert server.motia.runtime.stats.refused_origins == 1
            assert HOOK_CALLS == [] and AUTH_REQUESTS == []


async def test_event_subscription_origins(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{server.url}/streams/todo/inbox"
    async with httpx.AsyncClient(timeout=5) as client:
        refused = await client.get(url, headers={"origin": "https://evil.example"})
        assert refused.status_code == 403
        assert refused.json() == {"error": "Origin not allowed", "code": "ORIGIN_NOT_ALLOWED"}
        own = {"host": "app.example.com", "origin": "https://app.example.com"}
        for headers in [own, {"origin": "http://localhost:5173"}, {}]:
            async with client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200
    assert server.motia.runtime.stats.refused_origins == 1
    assert "'https://evil.example' refused" in caplog.text


async def test_any_origin_when_the_list_says_star(tmp_path: Path) -> None:
    with ServerThread(build_app(tmp_path, settings=Settings(stream_origins=("*",)))) as server:
        async with connect(server, origin="https://anywhere.example") as ws:
            await ws.send(join("todo", "inbox", "s1"))
            assert (await receive_one(ws))["event"]["type"] == "sync"


@pytest.mark.parametrize(
    ("origin", "host", "admitted"),
    [
        ("https://api.example.com", "api.example.com", True),  # behind a proxy: Host $host
        ("https://api.example.com:8443", "api.example.com:8443", True),
        ("https://api.example.com", "api.example.com:8443", False),
        ("http://api.example.com:3000", "api.example.com:3000", True),
        ("http://evil.example:3000", "api.example.com:3000", False),
        ("http://api.example.com.evil.example", "api.example.com", False),
        ("https://APP.example.com", "other", True),
        ("http://[::1", "api.example.com", False),
        ("https://api.example.com", None, False),
    ],
)
def test_the_origin_policy(origin: str, host: str | None, admitted: bool) -> None:
    assert OriginPolicy(["https://app.example.com/"]).admits(origin, host) is admitted


def test_compression_is_off_where_decompression_cannot_be_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _uvicorn_config("app:app", ServeOptions()).ws_per_message_deflate is True
    real_find_spec = importlib.util.find_spec

    def without_websockets(name: str, *args: Any) -> Any:
        return None if name == "websockets" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_websockets)
    assert _uvicorn_config("app:app", ServeOptions()).ws_per_message_deflate is False


# --- malformed frames --------------------------------------------------------------------

MALFORMED = [
    "[" * 8_000 + "]" * 8_000,
    '{"type":"join","data":' + '{"a":' * 2_000 + "{}" + "}" * 2_001,
    '{"type":"join","data":{"streamName":"todo","groupId":"\\ud800","subscriptionId":"s"}}',
    '{"type":"join","data":{"streamName":"\\udfff","groupId":"g","subscriptionId":"\\ud83d"}}',
    '{"type":"\\ud800","data":{"streamName":"todo","groupId":"inbox","subscriptionId":"s"}}',
    '{"type":' + "[" * 900 + "]" * 900 + ',"data":{}}',
    '{"type":"join","data":{"streamName":"todo","groupId":' + "9" * 5_000 + "}}",
    '{"type":"join","data":{"streamName":"todo","groupId":NaN,"subscriptionId":"s"}}',
    '{"type":"join","data":{"streamName":"todo","groupId":"","subscriptionId":"s"}}',
    '{"type":"join","data":[]}',
    "null",
    "",
    b"\x00binary",
]


async def test_every_malformed_frame_gets_invalid_message_and_keeps_the_socket(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with connect(server) as ws:
        await ws.send(join("todo", "inbox", "s0"))
        await receive_one(ws)
        for frame in MALFORMED:
            await ws.send(frame)
            error = await receive_one(ws)
            assert error_code(error) == "INVALID_MESSAGE", frame[:40]
            assert len(json.dumps(error)) < 1024
        server.call(server.streams.todo.set, "inbox", "after", {})
        assert (await receive_one(ws))["event"]["type"] == "create"
    assert server.motia.runtime.stats.invalid_messages == len(MALFORMED)
    assert "Traceback" not in caplog.text and "Exception in ASGI" not in caplog.text
    logged = [r.getMessage() for r in caplog.records if r.name == "motia.streams"]
    assert logged == [
        "a stream WebSocket frame answered with INVALID_MESSAGE: a frame must not nest this "
        "deeply; send a flat join or leave"
    ]


# --- streams nobody guards ----------------------------------------------------------------


def test_streams_without_auth_or_on_join_are_announced_at_startup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with ServerThread(build_app(tmp_path, stream_auth=None)):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "stream(s) notes can be read by anyone who reaches this server: there is no "
        "stream_auth hook and they have no on_join (see Authentication in docs/streams.md)"
    ]
    caplog.clear()
    with ServerThread(build_app(tmp_path)):  # with a stream_auth hook
        pass
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_the_demo_todo_stream_stores_nothing_for_a_made_up_group() -> None:
    with ServerThread(Motia("steps", project_dir=REPO, store="memory")) as server:
        async with connect(server) as ws:
            for index in range(20):
                await ws.send(join("todo", f"made-up-{index}", f"s{index}"))
                assert error_code(await receive_one(ws)) == "STREAM_ACCESS_DENIED"
            await ws.send(join("todo", "inbox", "mine"))
            assert (await receive_one(ws))["event"]["type"] == "sync"
            watching = server.call(server.streams.inbox.get_group, "watching")
            assert watching == [{"id": "inbox", "watching": 1}]


# --- motia start: the flags, and the server's memory under attack -----------------------


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return kib / 1024


def stream_project(tmp_path: Path) -> Path:
    steps = tmp_path / "steps"
    steps.mkdir()
    (steps / "notes.stream.py").write_text(NOTES)
    return tmp_path


NOTES = "from motia import StreamConfig\nconfig = StreamConfig(name='notes')\n"


@pytest.mark.slow
async def test_motia_start_flags_set_the_stream_limits(tmp_path: Path) -> None:
    flags = ["--max-stream-message", "1000", "--max-stream-name", "10", "--max-subscriptions", "1"]
    origin = ["--stream-origin", "https://app.example.com"]
    with motia_process("start", stream_project(tmp_path), *flags, *origin) as server:
        url = f"ws://127.0.0.1:{server.port}/streams"
        async with websockets.connect(url, open_timeout=5, origin="https://app.example.com") as ws:
            await ws.send(join("notes", "g" * 10, "s1"))
            assert (await receive_one(ws))["event"]["type"] == "sync"
            await ws.send(join("notes", "g" * 11, "s2"))
            assert error_code(await receive_one(ws)) == "INVALID_MESSAGE"
            await ws.send(join("notes", "g2", "s2"))
            assert error_code(await receive_one(ws)) == "TOO_MANY_SUBSCRIPTIONS"
            await ws.send(json.dumps({"pad": "x" * 1000}))
            assert await closed_code(ws) == 1009
        with pytest.raises(InvalidStatus):
            async with websockets.connect(url, open_timeout=5, origin="https://evil.example"):
                pass
        log = server.log()
    assert "stream(s) notes can be read by anyone" in log
    assert "a message over 1000 bytes" in log
    assert "refusing more joins" in log and "'https://evil.example' refused" in log


@pytest.mark.slow
async def test_compressed_joins_leave_motia_start_s_memory_alone(tmp_path: Path) -> None:
    with motia_process("start", stream_project(tmp_path)) as server:
        url = f"ws://127.0.0.1:{server.port}/streams"
        before = rss_mib(server.process.pid)

        async def attack(index: int) -> None:
            async with websockets.connect(url, open_timeout=10, max_size=None) as ws:
                await ws.send(join("notes", str(index) * 15 * MIB, "s1"))
                assert await closed_code(ws, deadline=30) == 1009

        async def bystander() -> None:
            async with websockets.connect(url, open_timeout=10) as ws:
                await ws.send(join("notes", "inbox", "s1"))
                assert (await receive_one(ws, deadline=10))["event"]["type"] == "sync"

        async with anyio.create_task_group() as tasks:
            for index in range(10):
                tasks.start_soon(attack, index)
            tasks.start_soon(bystander)
        # Before the limits, these ten frames (15 KiB each on the wire) cost 880 MiB.
        assert rss_mib(server.process.pid) - before < 50
