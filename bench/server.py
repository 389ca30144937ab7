"""A fresh uvicorn server per sample: pinned to its core, probed, measured and stopped."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.address import HOST

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = 0
CLIENT_CORE = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_command(app: str, port: int) -> list[str]:
    """One worker, uvloop and httptools, no access log: the same for every app."""
    return [
        sys.executable, "-m", "uvicorn", app,
        "--host", HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
        "--backlog", "8192", "--timeout-graceful-shutdown", "1",
    ]  # fmt: skip


def pinned(command: list[str], core: int) -> list[str]:
    return ["taskset", "-c", str(core), *command]


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def get(self, path: str, *, timeout: float = 10.0) -> tuple[int, bytes]:
        return request(self.port, "GET", path, timeout=timeout)

    def probe(self, path: str = "/__bench/stats") -> dict[str, Any]:
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"probe {path} answered {status}")
        return dict(json.loads(body))


def request(
    port: int, method: str, path: str, body: bytes | None = None, *, timeout: float = 10.0
) -> tuple[int, bytes]:
    """One blocking request, outside any measured window."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def fetch_raw(port: int, request_bytes: bytes, timeout: float = 10.0) -> bytes:
    """Everything the server sent for one request (sent with ``Connection: close``)."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request_bytes)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_ready(port: int, process: subprocess.Popen[bytes], path: str, timeout: float) -> float:
    """Poll ``path`` until it answers; return the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            status, _ = request(port, "GET", path, timeout=1.0)
            if status < 500:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"server on port {port} not ready after {timeout}s")


@contextmanager
def serve(
    app: str, *, env: dict[str, str] | None = None, ready_timeout: float = 30.0
) -> Iterator[Server]:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            pinned(uvicorn_command(app, port), SERVER_CORE),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_ready(port, process, "/__bench/stats", ready_timeout)
            yield Server(port, process)
        except Exception as exc:
            exc.add_note(f"server log ({app}):\n{tail(log)}")
            raise
        finally:
            stop(process)


def tail(log: Any, size: int = 2000) -> str:
    log.seek(0)
    return str(log.read()[-size:].decode(errors="replace"))


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def pin_self() -> None:
    """The harness and its asyncio clients run on the client core."""
    os.sched_setaffinity(0, {CLIENT_CORE})


def raise_fd_limit() -> int:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
