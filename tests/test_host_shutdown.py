"""SIGTERM with open streams, in every host: plain uvicorn (with and without a graceful
timeout), an app mounted in Starlette or FastAPI, and ``motia start``.

Each server has open step streams (one that wrote, one that had not written yet), stream
SSE subscriptions and a stream WebSocket. On SIGTERM every one of them must end within a
second, no request may get a 500, every handler's ``finally`` must run and the process
must exit well within its graceful timeout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from support import ServerProcess, free_port, wait_until_serving, write_step
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

pytestmark = pytest.mark.slow

TALKER = """
import os
from motia import http

config = {"name": "Talker", "triggers": [http("GET", "/talker")]}

def note(line):
    with open(os.environ["STEP_LOG"], "a") as log:
        log.write(line + "\\n")

async def handler(args, ctx):
    note("talker started")
    try:
        await args.response.status(200)
        await args.response.headers({"content-type": "text/event-stream"})
        await args.response.send(event="open", data={})
        import asyncio
        await asyncio.sleep(3600)
    finally:
        note("talker finally")
"""

QUIET = """
import asyncio, os
from motia import http

config = {"name": "Quiet", "triggers": [http("GET", "/quiet")]}

def note(line):
    with open(os.environ["STEP_LOG"], "a") as log:
        log.write(line + "\\n")

async def handler(args, ctx):
    note("quiet started")
    try:
        await args.response.status(200)
        await args.response.headers({"content-type": "text/event-stream"})
        await asyncio.sleep(3600)
    finally:
        note("quiet finally")
"""

NOTES = "config = {'name': 'notes'}\n"

PLAIN_APP = """
from motia import Motia
app = Motia("steps", store="memory").asgi()
"""

STARLETTE_APP = """
from starlette.applications import Starlette
from motia import Motia
app = Starlette()
Motia("steps", store="memory").mount(app, prefix="/api")
"""

FASTAPI_APP = """
from fastapi import FastAPI
from motia import Motia
app = FastAPI()
Motia("steps", store="memory").mount(app, prefix="/api")
"""

UVICORN = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1"]
GRACEFUL = ["--timeout-graceful-shutdown", "5"]
MOTIA_START = [sys.executable, "-m", "motia", "start", "--store", "memory"]

HOSTS = {
    "uvicorn": (UVICORN, PLAIN_APP, ""),
    "uvicorn-graceful": ([*UVICORN, *GRACEFUL], PLAIN_APP, ""),
    "starlette-mounted": ([*UVICORN, *GRACEFUL], STARLETTE_APP, "/api"),
    "fastapi-mounted": (UVICORN, FASTAPI_APP, "/api"),
    "motia-start": (MOTIA_START, None, ""),
}
TALKERS, QUIETS, SUBSCRIBERS = 3, 2, 2


@contextmanager
def host_process(command: list[str], project: Path) -> Iterator[ServerProcess]:
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="motia-host-")) / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "STEP_LOG": str(project / "steps.log")}
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=project,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
    server = ServerProcess(process, port, log_path)
    try:
        wait_until_serving(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Client(threading.Thread):
    """One open request: its status, what it read and when it ended."""

    def __init__(self, url: str, ready_mark: bytes | None, accept: str = "*/*") -> None:
        super().__init__(daemon=True)
        self.url = url
        self.accept = accept
        self.ready_mark = ready_mark
        self.ready = threading.Event()
        self.status: int | None = None
        self.body = b""
        self.ended_at: float | None = None
        self.error: BaseException | None = None
        if ready_mark is None:
            self.ready.set()

    def run(self) -> None:
        try:
            headers = {"accept": self.accept}
            with httpx.stream("GET", self.url, headers=headers, timeout=20.0) as response:
                self.status = response.status_code
                for chunk in response.iter_bytes():
                    self.body += chunk
                    if self.ready_mark is not None and self.ready_mark in self.body:
                        self.ready.set()
        except (httpx.HTTPError, OSError) as exc:
            self.error = exc
        self.ended_at = time.monotonic()


class SocketClient(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ready = threading.Event()
        self.close_code: int | None = None
        self.ended_at: float | None = None

    def run(self) -> None:
        with connect(self.url, open_timeout=10, close_timeout=2) as socket:
            join = {"streamName": "notes", "groupId": "g", "subscriptionId": "s1"}
            socket.send(json.dumps({"type": "join", "data": join}))
            try:
                while True:
                    message = json.loads(socket.recv(timeout=20))
                    if message.get("event", {}).get("type") == "sync":
                        self.ready.set()
            except ConnectionClosed as closed:
                self.close_code = closed.rcvd.code if closed.rcvd else None
        self.ended_at = time.monotonic()


def wait_for_log(path: Path, line: str, count: int, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if path.exists() and path.read_text().count(line) >= count:
            return
        time.sleep(0.02)
    logged = path.read_text() if path.exists() else ""
    raise AssertionError(f"{count}x {line!r} not logged: {logged}")


@pytest.mark.parametrize("host", list(HOSTS))
def test_sigterm_ends_every_open_stream_at_once(tmp_path: Path, host: str) -> None:
    command, app_source, prefix = HOSTS[host]
    write_step(tmp_path / "steps", "talker.step.py", TALKER)
    write_step(tmp_path / "steps", "quiet.step.py", QUIET)
    write_step(tmp_path / "steps", "notes.stream.py", NOTES)
    if app_source is not None:
        (tmp_path / "app.py").write_text(app_source)
    step_log = tmp_path / "steps.log"
    with host_process(command, tmp_path) as server:
        base = server.url + prefix
        # Step streams both ways: in the request's task, and in a task of their own.
        accepts = ["*/*", "text/event-stream"]
        talkers = [Client(base + "/talker", b"event: open", accepts[n % 2]) for n in range(TALKERS)]
        quiets = [Client(base + "/quiet", None, accepts[n % 2]) for n in range(QUIETS)]
        clients = [*talkers, *quiets]
        clients += [Client(base + "/streams/notes/g", b"event: sync") for _ in range(SUBSCRIBERS)]
        socket = SocketClient(f"ws://127.0.0.1:{server.port}{prefix}/streams")
        for client in [*clients, socket]:
            client.start()
        for client in [*clients, socket]:
            assert client.ready.wait(10), f"{client} not ready:\n{server.log()}"
        wait_for_log(step_log, "talker started", TALKERS)
        wait_for_log(step_log, "quiet started", QUIETS)

        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        for client in [*clients, socket]:
            client.join(timeout=3)
        exit_code = server.process.wait(timeout=8)
        exited = time.monotonic() - signalled

        late = [c.url for c in clients if c.ended_at is None or c.ended_at - signalled > 1.0]
        assert not late, f"still open a second after SIGTERM: {late}\n{server.log()}"
        assert socket.ended_at is not None and socket.ended_at - signalled <= 1.0
        assert socket.close_code in (1001, 1012), socket.close_code
        assert [c.status for c in clients if c.status != 200] == [], server.log()
        failed = [c.url for c in clients if b"event: error" in c.body]  # a 500 once streaming
        assert not failed, f"a handler failed while shutting down: {failed}\n{server.log()}"
        wait_for_log(step_log, "talker finally", TALKERS, deadline=1)
        wait_for_log(step_log, "quiet finally", QUIETS, deadline=1)
        assert exited < 4, f"exited {exited:.1f}s after SIGTERM:\n{server.log()}"
        assert "Traceback" not in server.log(), server.log()
        if host == "motia-start":
            assert exit_code == 0, server.log()
