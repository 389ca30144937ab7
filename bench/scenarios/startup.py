"""Scenario 7: start-up with 200 generated step files, and ``motia dev`` reload after an edit.

Cold start runs from process spawn until the last generated route answers,
next to the same spawn of the raw app (interpreter, uvicorn and uvloop: the
floor). Reload runs from the file write until the edited step answers anew.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.config import Config
from bench.sampling import APPS, Sample, interleave, report
from bench.server import (
    ROOT,
    SERVER_CORE,
    free_port,
    pinned,
    request,
    stop,
    uvicorn_command,
    wait_ready,
)
from bench.stats import bar

RELOADS = 3
STEP = '''"""Generated step {i}."""

from pydantic import BaseModel

from motia import http


class Body{i}(BaseModel):
    name: str
    count: int = 0


config = {{
    "name": "Generated{i}",
    "flows": ["generated"],
    "triggers": [http("GET", "/gen/{i}"), http("POST", "/gen/{i}", body_schema=Body{i})],
}}


async def handler(args, ctx):
    return {{"status": 200, "body": {{"step": {i}, "version": "{version}"}}}}
'''


def run(config: Config) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="motia-bench-") as folder:
        project = Path(folder)
        _generate(project / "steps", config.startup_steps)
        cold = _cold(config, project, config.startup_steps)
        reload = _reload(project)
    return [cold, reload]


def _generate(steps: Path, count: int) -> None:
    steps.mkdir(parents=True)
    for i in range(count):
        _write_step(steps, i, "v0")


def _write_step(steps: Path, i: int, version: str) -> None:
    (steps / f"gen_{i}.step.py").write_text(STEP.format(i=i, version=version))


def _cold(config: Config, project: Path, count: int) -> dict[str, Any]:
    env = {"BENCH_STEPS": str(project / "steps"), "BENCH_PROJECT": str(project)}
    paths = {"raw": "/hello", "motia": f"/gen/{count - 1}"}

    def measure(peer: str) -> Sample:
        port = free_port()
        start = time.monotonic()
        process = subprocess.Popen(
            pinned(uvicorn_command(APPS[peer], port), SERVER_CORE), cwd=ROOT,
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_ready(port, process, paths[peer], 30)
            return Sample(time.monotonic() - start)
        finally:
            stop(process)

    result = report(interleave(("raw", "motia"), config.rounds, measure), "s to first answer")
    result.update(
        id="startup",
        title=f"7a. Cold start with {count} step files: spawn to serving (raw: empty app)",
        bars=[bar("motia spawn to serving < 1 s", result["peers"]["motia"]["median"], 1.0,
                  at_most=True)],
    )  # fmt: skip
    return result


def _reload(project: Path) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, "-m", "motia", "dev", "--port", str(port), "--dir", "steps",
               "--store", "memory", "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(
        pinned(command, SERVER_CORE), cwd=project, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_ready(port, process, "/gen/0", 30)
        times = [_one_reload(project / "steps", port, f"v{n}") for n in range(1, RELOADS + 1)]
    finally:
        _stop_group(process)
    samples = {"motia": [Sample(t) for t in times]}
    result = report(samples, "s from file write to new answer")
    result.update(
        id="reload",
        title="7b. `motia dev` reload after a step file changes",
        bars=[bar("motia dev reload < 1 s", result["peers"]["motia"]["median"], 1.0,
                  at_most=True)],
    )  # fmt: skip
    return result


def _one_reload(steps: Path, port: int, version: str, timeout: float = 20.0) -> float:
    time.sleep(0.5)
    _write_step(steps, 0, version)
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            status, body = request(port, "GET", "/gen/0", timeout=2.0)
            if status == 200 and version.encode() in body:
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"motia dev did not serve {version} within {timeout}s")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """``motia dev`` runs a reloader and a worker; stop the session it was started in."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
