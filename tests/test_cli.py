"""The `motia` command: routes, start, dev reload and shutdown with open streams."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from support import motia_process, write_step

pytestmark = pytest.mark.slow  # each test runs the `motia` command in a process

HELLO = """
from motia import http

config = {{"name": "Hello", "flows": ["greetings"], "triggers": [http("GET", "/hello")]}}

async def handler(args, ctx):
    return {{"status": 200, "body": {{"version": {version}}}}}
"""

ENDLESS = """
import asyncio
from motia import http

config = {"name": "Endless", "triggers": [http("GET", "/endless")]}

async def handler(args, ctx):
    await args.response.status(200)
    await args.response.headers({"content-type": "text/event-stream"})
    await args.response.send(event="open", data={})
    while True:
        await asyncio.sleep(3600)
"""

BROKEN = "config = {'name': 'Broken', 'triggers': []\nasync def handler(args, ctx): ...\n"
NO_HANDLER = (
    "from motia import http\nconfig = {'name': 'NoHandler', 'triggers': [http('GET', '/x')]}\n"
)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motia", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_step(tmp_path / "steps", "hello.step.py", HELLO.format(version=1))
    return tmp_path


def test_routes_prints_method_path_step_and_flows(project: Path) -> None:
    result = run_cli("routes", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["GET", "/hello", "Hello", "[greetings]"]


def test_start_refuses_broken_steps_listing_every_error(project: Path) -> None:
    write_step(project / "steps", "broken.step.py", BROKEN)
    write_step(project / "steps", "nested/no_handler_step.py", NO_HANDLER)
    result = run_cli("start", "--port", "1", cwd=project)
    assert result.returncode == 1
    assert "2 errors" in result.stderr
    assert "steps/broken.step.py:1: syntax error" in result.stderr
    assert "steps/nested/no_handler_step.py" in result.stderr
    assert "no `handler` found" in result.stderr


def test_dev_reports_a_broken_file_and_serves_the_others(project: Path) -> None:
    write_step(project / "steps", "broken.step.py", BROKEN)
    with motia_process("dev", project) as server:
        assert httpx.get(server.url + "/hello", timeout=5).json() == {"version": 1}
        assert "steps/broken.step.py:1: syntax error" in server.log()


def wait_for_version(url: str, version: int, deadline: float = 15.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        try:
            if httpx.get(url, timeout=1).json() == {"version": version}:
                return time.monotonic() - start
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"version {version} not served after {deadline}s")


def test_dev_reloads_when_a_step_file_changes(project: Path) -> None:
    with motia_process("dev", project) as server:
        wait_for_version(server.url + "/hello", 1)
        write_step(project / "steps", "hello.step.py", HELLO.format(version=2))
        wait_for_version(server.url + "/hello", 2)


def test_dev_ignores_changes_outside_the_project_sources(project: Path) -> None:
    with motia_process("dev", project) as server:
        wait_for_version(server.url + "/hello", 1)
        write_step(project / "steps" / "node_modules", "x.py", "")
        write_step(project / ".venv", "y.py", "")
        # A watched change last: the watcher reports changes in order, so had the others
        # counted they would be named in this reload or in one before it.
        write_step(project / "steps", "hello.step.py", HELLO.format(version=2))
        wait_for_version(server.url + "/hello", 2)
        reloads = [line.split(" ", 1)[1] for line in server.log().splitlines() if "Reload" in line]
        assert reloads == [
            "WARNING WatchFiles detected changes in 'steps/hello.step.py'. Reloading..."
        ], server.log()


def open_stream(url: str, opened: threading.Event, ended: threading.Event) -> None:
    with httpx.Client(timeout=httpx.Timeout(20.0)) as client, client.stream("GET", url) as response:
        events = []
        for chunk in response.iter_bytes():
            if b"event: open" in chunk:
                opened.set()
            events.append(chunk)
    ended.set()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_is_not_held_up_by_open_streams(project: Path, sig: int) -> None:
    write_step(project / "steps", "endless.step.py", ENDLESS)
    with motia_process("start", project) as server:
        opened, ended = threading.Event(), threading.Event()
        reader = threading.Thread(
            target=open_stream, args=(server.url + "/endless", opened, ended), daemon=True
        )
        reader.start()
        assert opened.wait(timeout=10)
        started = time.monotonic()
        # SIGTERM is a clean stop; on SIGINT uvicorn re-raises the signal once shut down
        assert server.stop(sig, timeout=10) in ((0,) if sig == signal.SIGTERM else (0, -sig))
        assert time.monotonic() - started < 5, "shutdown waited for the open stream"
        assert ended.wait(timeout=5), "the client's stream was not ended"


def test_dev_reload_is_not_held_up_by_open_streams(project: Path) -> None:
    write_step(project / "steps", "endless.step.py", ENDLESS)
    with motia_process("dev", project) as server:
        opened, ended = threading.Event(), threading.Event()
        reader = threading.Thread(
            target=open_stream, args=(server.url + "/endless", opened, ended), daemon=True
        )
        reader.start()
        assert opened.wait(timeout=10)
        write_step(project / "steps", "hello.step.py", HELLO.format(version=3))
        wait_for_version(server.url + "/hello", 3, deadline=8)
        assert ended.wait(timeout=5)


def test_python_dash_m_motia_shows_help(project: Path) -> None:
    result = run_cli("--help", cwd=project)
    assert result.returncode == 0
    assert "dev" in result.stdout and "start" in result.stdout


@pytest.mark.parametrize("command", ["start", "dev"])
def test_limit_flags_reach_the_server(project: Path, command: str) -> None:
    flags = ["--max-headers", "8", "--header-timeout", "0.5", "--max-body-size", "10"]
    with motia_process(command, project, *flags, ready_path="/hello") as server:
        many = {f"x-{index}": "1" for index in range(10)}
        assert httpx.get(server.url + "/hello", headers=many, timeout=5).status_code == 431
        big = httpx.request("GET", server.url + "/hello", content=b"x" * 100, timeout=5)
        assert big.json() == {"error": "Request body too large", "limit": 10}
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as idle:
            started = time.monotonic()
            answer = idle.recv(1000)
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 4


def test_replay_bounds_reach_the_settings() -> None:
    from motia.cli import _options, _parser
    from motia.settings import Settings

    args = _parser().parse_args(
        [
            "start",
            "--replay-messages",
            "7",
            "--replay-bytes",
            "1000",
            "--replay-total-bytes",
            "5000",
            "--replay-idle-timeout",
            "2.5",
            "--replay-idle-groups",
            "3",
        ]
    )
    settings = Settings(**_options(args, dev=False).settings)
    assert (
        settings.replay_messages,
        settings.replay_bytes,
        settings.replay_total_bytes,
        settings.replay_idle_timeout,
        settings.replay_idle_groups,
    ) == (7, 1000, 5000, 2.5, 3)
    defaults = Settings(**_options(_parser().parse_args(["start"]), dev=False).settings)
    assert defaults.replay_total_bytes == Settings().replay_total_bytes
