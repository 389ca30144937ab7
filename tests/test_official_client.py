"""The official Node client (@motiadev/stream-client-node) against a real server."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from stream_server import AUTH_REQUESTS, ServerThread, build_app

pytestmark = pytest.mark.slow  # the Node client in a process

NODE_DIR = Path(__file__).parent / "node"


def _require_client() -> None:
    in_ci = bool(os.environ.get("CI"))
    if shutil.which("node") is None or shutil.which("npm") is None:
        if in_ci:
            pytest.fail("node and npm are needed for the official client test")
        pytest.skip("node is not installed")
    if (NODE_DIR / "node_modules" / "@motiadev" / "stream-client-node").is_dir():
        return
    result = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        message = f"npm ci failed:\n{result.stdout}\n{result.stderr}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)


class NodeClient:
    def __init__(self, url: str, token: str) -> None:
        self.process = subprocess.Popen(
            ["node", "client.mjs", url, token],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def expect(self, predicate: Callable[[dict[str, Any]], bool], deadline: float = 10) -> Any:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        stderr = "" if self.process.poll() is None else self.process.stderr.read()  # type: ignore[union-attr]
        raise AssertionError(f"no matching line within {deadline}s; saw {self.seen}\n{stderr}")

    def command(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.command("quit")
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def client_factory() -> Iterator[Callable[[str, str], NodeClient]]:
    _require_client()
    clients: list[NodeClient] = []

    def start(url: str, token: str) -> NodeClient:
        clients.append(NodeClient(url, token))
        return clients[-1]

    yield start
    for client in clients:
        client.close()


def change(sub: str, state: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda line: line == {"sub": sub, "type": "change", "state": state}


def test_official_client_end_to_end(
    tmp_path: Path, client_factory: Callable[[str, str], NodeClient]
) -> None:
    first = ServerThread(build_app(tmp_path))
    with first:
        todo = first.streams.todo
        first.call(todo.set, "inbox", "a", {"title": "a"})
        client = client_factory(first.ws_url + "/streams", "secret-token")
        client.expect(change("group", [{"id": "a", "title": "a"}]))
        client.expect(change("item", {"id": "a", "title": "a"}))
        denied = client.expect(lambda line: line.get("sub") == "denied")
        assert denied["data"] == {"code": "STREAM_ACCESS_DENIED", "message": "Access denied"}
        assert AUTH_REQUESTS[0].token == "secret-token"

        first.call(todo.set, "inbox", "b", {"title": "b"})
        client.expect(change("group", [{"id": "a", "title": "a"}, {"id": "b", "title": "b"}]))
        first.call(todo.set, "inbox", "a", {"title": "a2"})
        client.expect(change("item", {"id": "a", "title": "a2"}))
        client.expect(change("group", [{"id": "a", "title": "a2"}, {"id": "b", "title": "b"}]))
        first.call(todo.send, {"groupId": "inbox"}, {"type": "ping", "data": {"n": 1}})
        client.expect(lambda line: line == {"sub": "group", "type": "event", "data": {"n": 1}})
        first.call(todo.send, {"groupId": "inbox", "id": "a"}, {"type": "ping", "data": {"n": 2}})
        client.expect(lambda line: line == {"sub": "item", "type": "event", "data": {"n": 2}})
        first.call(todo.delete, "inbox", "b")
        client.expect(change("group", [{"id": "a", "title": "a2"}]))
        first.call(todo.delete, "inbox", "a")
        client.expect(change("item", None))
        client.expect(change("group", []))

    # Restart on the same port: the client reconnects and rejoins (fresh sync).
    second = ServerThread(build_app(tmp_path), port=first.port)
    with second:
        second.call(second.streams.todo.set, "inbox", "c", {"title": "c"})
        client.expect(change("group", [{"id": "c", "title": "c"}]), deadline=15)
        client.command("state")
        state = client.expect(lambda line: line.get("type") == "state")
        assert state["group"] == [{"id": "c", "title": "c"}]
        client.close()
        assert client.process.returncode == 0
