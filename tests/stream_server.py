"""Test support for stream subscriptions: a real uvicorn server in a thread, a small
project with hook-recording streams, and WebSocket helpers, all with deadlines."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from support import free_port

from motia import Motia, StreamAuthError, StreamAuthRequest
from motia.backends.memory import MemoryStore

HOOK_CALLS: list[tuple[str, str, str | None, str, Any]] = []
AUTH_REQUESTS: list[StreamAuthRequest] = []

TODO_STREAM = """
from stream_server import HOOK_CALLS
from motia import StreamConfig

async def on_join(subscription, ctx, auth_context):
    HOOK_CALLS.append(("join", subscription.groupId, subscription.id,
                       subscription.subscription_id, auth_context))
    assert ctx.streams.todo and ctx.state is not None and ctx.logger
    return {"unauthorized": subscription.group_id == "secret"}

def on_leave(subscription, ctx, auth_context):
    HOOK_CALLS.append(("leave", subscription.group_id, subscription.item_id,
                       subscription.subscriptionId, auth_context))

config = {"name": "todo", "onJoin": on_join, "onLeave": on_leave}
"""

NOTES_STREAM = """
from motia import StreamConfig
config = StreamConfig(name="notes")
"""


def auth_hook(request: StreamAuthRequest) -> Any:
    AUTH_REQUESTS.append(request)
    if request.token == "bad":
        raise StreamAuthError("refused")
    if request.token == "false":
        return False
    return {"user": request.token}


def project(tmp_path: Path) -> Path:
    steps = tmp_path / "steps"
    steps.mkdir(exist_ok=True)
    (steps / "todo.stream.py").write_text(TODO_STREAM)
    (steps / "notes.stream.py").write_text(NOTES_STREAM)
    HOOK_CALLS.clear()
    AUTH_REQUESTS.clear()
    return tmp_path


def build_app(tmp_path: Path, *, store: Any = None, **kwargs: Any) -> Motia:
    kwargs.setdefault("stream_auth", auth_hook)
    return Motia("steps", project_dir=project(tmp_path), store=store or MemoryStore(), **kwargs)


class ServerThread:
    """uvicorn serving a Motia app on its own event loop in a daemon thread."""

    def __init__(self, motia: Motia, port: int | None = None, **uvicorn_options: Any) -> None:
        self.motia = motia
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.loop: asyncio.AbstractEventLoop | None = None
        config = uvicorn.Config(
            motia.asgi(),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=3,
            **uvicorn_options,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.server.serve())
        self.loop.close()

    def __enter__(self) -> ServerThread:
        self.thread.start()
        end = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise AssertionError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.motia.runtime.end_streams()
            self.server.should_exit = True
            self.thread.join(15)
            assert not self.thread.is_alive(), "server did not stop"

    def call(self, fn: Callable[..., Awaitable[Any]], *args: Any, timeout: float = 5) -> Any:
        """Run ``fn(*args)`` on the server's loop and wait for its result."""
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(_call(fn, *args), self.loop)
        return future.result(timeout)

    @property
    def streams(self) -> Any:
        return self.motia.runtime.streams

    def idle(self) -> bool:
        """Whether every connection's ASGI call has returned (uvicorn tracks them as tasks)."""
        return not self.server.server_state.tasks


async def _call(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    return await fn(*args)


def join(stream: str, group: str, sub: str, item: str | None = None) -> str:
    data = {"streamName": stream, "groupId": group, "subscriptionId": sub}
    if item is not None:
        data["id"] = item
    return json.dumps({"type": "join", "data": data})


def leave(stream: str, group: str, sub: str, item: str | None = None) -> str:
    return join(stream, group, sub, item).replace('"join"', '"leave"', 1)


async def receive(ws: Any, count: int = 1, deadline: float = 5.0) -> list[dict[str, Any]]:
    with anyio.fail_after(deadline):
        return [json.loads(await ws.recv()) for _ in range(count)]


async def receive_one(ws: Any, deadline: float = 5.0) -> dict[str, Any]:
    return (await receive(ws, 1, deadline))[0]


async def wait_for(predicate: Callable[[], bool], deadline: float = 5.0) -> None:
    with anyio.fail_after(deadline):
        while not predicate():
            await anyio.sleep(0.01)


def small_socket(server: ServerThread) -> socket.socket:
    """A connected client socket with a small, fixed receive buffer (no autotuning)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock
