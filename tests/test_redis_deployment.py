"""Two real server processes sharing one Redis, as behind a load balancer.

A WebSocket subscriber on one process sees a todo created through the other;
when Redis restarts under them, neither process dies, the subscriber gets a
fresh sync, and new writes reach it again.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis_support import RedisServer, Servers, private_redis, unique_prefix
from websockets.sync.client import ClientConnection, connect

pytestmark = pytest.mark.slow  # server processes and a redis-server that is restarted

TODO_STREAM = """
from pydantic import BaseModel

from motia import StreamConfig


class Todo(BaseModel):
    id: str
    description: str


config = StreamConfig(name="todo", schema=Todo)
"""

CREATE_TODO = """
import uuid

from motia import http

config = {"name": "CreateTodo", "triggers": [http("POST", "/todo")]}


async def handler(args, ctx):
    todo_id = str(uuid.uuid4())
    todo = await ctx.streams.todo.set("inbox", todo_id, args.request.body)
    return {"status": 201, "body": todo}
"""


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[RedisServer, Servers, int, int]]:
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "todo.stream.py").write_text(textwrap.dedent(TODO_STREAM))
    (tmp_path / "steps" / "create_todo.step.py").write_text(textwrap.dedent(CREATE_TODO))
    with private_redis() as redis_server:
        servers = Servers(tmp_path, unique_prefix())
        try:
            # At debug level a failure shows each process's reconnection attempts.
            options = ("--redis-url", redis_server.url, "--log-level", "debug")
            first = servers.start(*options)
            second = servers.start(*options)
            servers.wait_ready(first)
            servers.wait_ready(second)
            yield redis_server, servers, first, second
        finally:
            servers.kill_all()


def receive(socket: ClientConnection, kind: str, seconds: float = 15) -> dict[str, Any]:
    """The next message whose event type is ``kind`` (others are skipped)."""
    while True:
        message = json.loads(socket.recv(timeout=seconds))
        if message["event"]["type"] == kind:
            return message


def create(port: int, description: str) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/todo", json={"description": description}, timeout=10
    )
    assert response.status_code == 201, response.text
    todo: dict[str, Any] = response.json()
    return todo


@pytest.mark.timeout(120)
def test_subscribers_follow_writes_across_processes_and_redis_restarts(
    deployment: tuple[RedisServer, Servers, int, int],
) -> None:
    redis_server, servers, first, second = deployment
    join = {"type": "join", "data": {"streamName": "todo", "groupId": "inbox",
                                     "subscriptionId": "s1"}}  # fmt: skip
    with connect(f"ws://127.0.0.1:{first}/streams", open_timeout=10) as socket:
        socket.send(json.dumps(join))
        assert receive(socket, "sync")["event"]["data"] == []

        todo = create(second, "written through the other process")
        assert receive(socket, "create")["event"]["data"] == todo

        redis_server.stop()
        redis_server.start()
        servers.wait_ready(first)
        servers.wait_ready(second)
        assert receive(socket, "sync")["event"]["data"] == []  # the restarted Redis kept nothing

        again = create(second, "after the restart")
        assert receive(socket, "create")["event"]["data"] == again
    assert all(process.poll() is None for process in servers.processes.values())
