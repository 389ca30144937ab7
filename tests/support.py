"""Test support: free ports, real server processes and SSE reading, all with deadlines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from motia.sse import ServerSentEvent, SSEParser

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    def __init__(self, process: subprocess.Popen[str], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextmanager
def motia_process(
    command: str,
    project: Path,
    *extra: str,
    ready_path: str | None = "/__none__",
    python: str = sys.executable,
) -> Iterator[ServerProcess]:
    """Run ``motia <command>`` on a free port until the block ends (killed if still up)."""
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="motia-server-")) / "server.log"
    args = [python, "-m", "motia", command, "--port", str(port), "--store", "memory"]
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [*args, *extra],
            cwd=project,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    server = ServerProcess(process, port, log_path)
    try:
        if ready_path is not None:
            wait_until_serving(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_until_serving(server: ServerProcess, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited early:\n{server.log()}")
        try:
            httpx.get(server.url + "/__motia_probe__", timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"server not serving after {deadline}s:\n{server.log()}")


def read_events(
    response: httpx.Response, limit: int = 1000, deadline: float = 10.0
) -> list[ServerSentEvent]:
    """Parse SSE frames as EventSource would, until the body ends (or ``limit`` events)."""
    parser = SSEParser()
    events: list[ServerSentEvent] = []
    end = time.monotonic() + deadline
    for chunk in response.iter_bytes():
        events.extend(parser.feed(chunk))
        if len(events) >= limit:
            break
        if time.monotonic() > end:
            raise AssertionError(f"stream still open after {deadline}s: {events}")
    return events


def write_step(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path
