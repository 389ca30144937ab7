"""Helpers for tests that need a real Redis.

``MOTIA_TEST_REDIS`` unset: tests skip when Redis does not answer. Set: it must
answer, and when the value is a ``redis://`` URL it names the server to use.
The default is database 15 of 127.0.0.1:6379, never 0, which a developer's own
app is likely to use.
Every test works under its own key prefix and deletes its keys afterwards.
Separate ``redis-server`` processes (for restarts) run on free ports.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio

from motia.backends.redis import RedisStore

ENV = "MOTIA_TEST_REDIS"
DEFAULT_URL = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    configured = os.environ.get(ENV, "")
    return configured if configured.startswith("redis") else DEFAULT_URL


@functools.cache
def _reachable() -> str | None:
    """None when Redis answers, else why not."""
    try:
        redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"{redis_url()}: {exc}"
    return None


def require_redis() -> None:
    """Skip (or fail, with MOTIA_TEST_REDIS set) unless the test Redis answers."""
    problem = _reachable()
    if problem is None:
        return
    if os.environ.get(ENV):
        pytest.fail(f"{ENV} is set but Redis does not answer: {problem}")
    pytest.skip(f"Redis not reachable ({problem}); set {ENV} to make this a failure")


def unique_prefix() -> str:
    return f"motia-test:{uuid.uuid4().hex[:12]}:"


class DisposableRedisStore(RedisStore):
    """A RedisStore under a fresh prefix whose keys are deleted when it closes."""

    def __init__(self, url: str | None = None, **kwargs: object) -> None:
        kwargs.setdefault("prefix", unique_prefix())
        super().__init__(url or redis_url(), **kwargs)  # type: ignore[arg-type]

    async def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                await self.purge()
        await super().close()


def redis_store(tmp_path: object = None) -> DisposableRedisStore:
    """A store factory for the contract suite."""
    require_redis()
    return DisposableRedisStore()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A private ``redis-server`` on a free port that tests may stop and restart."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        options = ["--bind", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(
            ["redis-server", *options, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def kill_feed_connection(store: RedisStore) -> None:
    """Close the store's pub/sub connection from the server side, as a network blip would."""
    admin = redis.asyncio.Redis.from_url(store.url, decode_responses=True)
    try:
        clients = await admin.client_list(_type="pubsub")
        ids = [c["id"] for c in clients if c.get("name") == store.client_name]
        assert ids, "the store's pub/sub connection is not listed"
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()


class Servers:
    """``python -m motia start`` processes, each in its own process group, always killed."""

    def __init__(self, project: Path, prefix: str) -> None:
        self.project = project
        self.env = {**os.environ, "MOTIA_REDIS_PREFIX": prefix}
        self.env.pop("MOTIA_REDIS_URL", None)
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, *options: str, log: Path | None = None) -> int:
        """Start a server (its log in ``log`` if given, else on the terminal); its port."""
        port = free_port()
        command = [sys.executable, "-m", "motia", "start", "--project", str(self.project)]
        with open(log or os.devnull, "w") as log_file:
            self.processes[port] = subprocess.Popen(
                [*command, "--port", str(port), "--log-level", "warning", *options],
                env=self.env,
                start_new_session=True,
                stderr=log_file if log else None,
            )
        return port

    def wait_ready(self, port: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.processes[port].poll() is None, "the server exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/__motia/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"server on port {port} not ready after {seconds}s")

    def kill(self, port: int) -> None:
        process = self.processes[port]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_all(self) -> None:
        for port in self.processes:
            self.kill(port)
