"""Several real server processes sharing one Redis: cron ticks, worker processes."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from redis_support import (
    DisposableRedisStore,
    Servers,
    redis_url,
    require_redis,
    unique_prefix,
)

from motia.backends.redis import RedisStore
from motia.exceptions import ServeError
from motia.server import ServeOptions, check_workers

TICK_STEP = """
import os
import time

from motia import cron

config = {"name": "Tick", "triggers": [cron("* * * * * *")], "enqueues": []}


async def handler(ctx):
    now = time.time()
    # The tick this run belongs to: runs start a few ms after their tick.
    tick = round(now)
    await ctx.state.set("ticks", f"{tick}-{os.getpid()}-{time.monotonic_ns()}",
                        {"tick": tick, "pid": os.getpid()})
"""

PID_STEP = """
import os

from motia import http

config = {"name": "Pid", "triggers": [http("GET", "/pid")], "enqueues": []}


async def handler(request):
    return {"status": 200, "body": {"pid": os.getpid()}}
"""


def _project(tmp_path: Path, **steps: str) -> Path:
    (tmp_path / "steps").mkdir()
    for name, source in steps.items():
        (tmp_path / "steps" / f"{name}.step.py").write_text(textwrap.dedent(source))
    return tmp_path


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    require_redis()
    started = Servers(_project(tmp_path, tick=TICK_STEP, pid=PID_STEP), unique_prefix())
    try:
        yield started
    finally:
        started.kill_all()
        anyio.run(_purge, started.env["MOTIA_REDIS_PREFIX"])


async def _purge(prefix: str) -> None:
    async with DisposableRedisStore(prefix=prefix):
        pass  # deletes every key under the prefix when it closes


async def _runs(prefix: str) -> list[dict[str, int]]:
    async with RedisStore(redis_url(), prefix=prefix) as store:
        return [value for _, value in await store.list("state", "ticks")]


def _per_tick(runs: list[dict[str, int]]) -> collections.Counter[int]:
    return collections.Counter(run["tick"] for run in runs)


def _runs_once(prefix: str, done: Callable[[list[dict[str, int]]], bool]) -> list[dict[str, int]]:
    """The runs recorded so far, read again until ``done`` holds (30s at most)."""
    deadline = time.monotonic() + 30
    while not done(runs := anyio.run(_runs, prefix)):
        assert time.monotonic() < deadline, sorted(_per_tick(runs).items())
        time.sleep(0.2)
    return runs


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_each_cron_tick_runs_once_across_processes_and_survives_a_kill(servers) -> None:
    prefix = servers.env["MOTIA_REDIS_PREFIX"]
    ports = [servers.start("--redis-url", redis_url()) for _ in range(3)]
    for port in ports:
        servers.wait_ready(port)
    started = time.time()
    # A run of the tick after the window: every tick in it had a second to run (or run twice).
    runs = _runs_once(prefix, lambda runs: any(run["tick"] >= started + 11 for run in runs))
    window = [run for run in runs if started + 1 <= run["tick"] <= started + 10]
    assert 8 <= len(window) <= 10, sorted(_per_tick(runs).items())
    assert max(_per_tick(runs).values()) == 1, sorted(_per_tick(runs).items())

    last = max(runs, key=lambda run: run["tick"])
    victim = next(port for port in ports if servers.processes[port].pid == last["pid"])
    servers.kill(victim)
    killed_at = time.time()
    # Four or five ticks from killed_at + 1 up to the first one at or past killed_at + 5.
    runs = _runs_once(prefix, lambda runs: any(run["tick"] >= killed_at + 5 for run in runs))
    after = [run for run in runs if run["tick"] >= killed_at + 1]
    assert len(after) >= 4, sorted(_per_tick(runs).items())
    assert last["pid"] not in {run["pid"] for run in after}
    assert max(_per_tick(runs).values()) == 1, sorted(_per_tick(runs).items())


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_workers_share_one_port(servers, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    options = ("--workers", "2", "--redis-url", redis_url(), "--log-level", "info")
    port = servers.start(*options, log=log)
    servers.wait_ready(port)
    pids: set[int] = set()
    deadline = time.monotonic() + 30
    while len(pids) < 2 and time.monotonic() < deadline:
        # A fresh connection each time, so the kernel may hand it to either worker.
        with httpx.Client() as client:
            pids.add(client.get(f"http://127.0.0.1:{port}/pid").json()["pid"])
    assert len(pids) == 2
    assert servers.processes[port].pid not in pids
    # The supervisor logs the route table once; the workers do not repeat it.
    assert log.read_text().count("GET     /pid") == 1, log.read_text()
    os.killpg(servers.processes[port].pid, signal.SIGTERM)
    assert servers.processes[port].wait(timeout=20) == 0


@pytest.mark.slow
def test_workers_are_refused_without_redis(tmp_path: Path) -> None:
    project = _project(tmp_path, pid=PID_STEP)
    env = {key: value for key, value in os.environ.items() if key != "MOTIA_REDIS_URL"}
    for options in (["--workers", "2"], ["--workers", "3", "--store", "sqlite"]):
        command = [sys.executable, "-m", "motia", "start", "--project", str(project), *options]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 1
        assert "--redis-url redis://" in result.stderr
        assert "MOTIA_REDIS_URL" in result.stderr


def test_worker_count_is_checked_before_serving(monkeypatch) -> None:
    monkeypatch.delenv("MOTIA_REDIS_URL", raising=False)
    check_workers(ServeOptions(workers=1))
    check_workers(ServeOptions(workers=4, redis_url="redis://h:6379/0"))
    check_workers(ServeOptions(workers=4, store="redis"))
    with pytest.raises(ServeError, match="--workers 4 needs a backend shared"):
        check_workers(ServeOptions(workers=4))
    with pytest.raises(ServeError, match="the memory store"):
        check_workers(ServeOptions(workers=2, store="memory", redis_url="redis://h:6379/0"))
    with pytest.raises(ServeError, match="1 or more"):
        check_workers(ServeOptions(workers=0, store="redis"))
    monkeypatch.setenv("MOTIA_REDIS_URL", "redis://h:6379/0")
    check_workers(ServeOptions(workers=2))
