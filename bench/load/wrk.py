"""``wrk`` on the client core: requests/s, errors and the client's CPU time."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.address import HOST
from bench.server import CLIENT_CORE, pinned

_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class WrkResult:
    rate: float
    errors: int
    cpu: float
    """Client CPU seconds."""
    seconds: float


def post_script(body: bytes) -> Path:
    """A Lua script that turns every wrk request into a JSON POST of ``body``."""
    text = (
        'wrk.method = "POST"\n'
        f"wrk.body = '{body.decode()}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(text)
    return Path(handle.name)


def run(
    port: int, path: str, *, seconds: float, connections: int, script: Path | None = None
) -> WrkResult:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
    ]  # fmt: skip
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://{HOST}:{port}{path}")
    process = subprocess.Popen(
        pinned(command, CLIENT_CORE), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not _RATE.search(output):
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    return _parse(output, usage.ru_utime + usage.ru_stime, seconds)


def _parse(output: str, cpu: float, seconds: float) -> WrkResult:
    rate = _RATE.search(output)
    assert rate is not None
    errors = sum(int(n) for n in _NON_2XX.findall(output))
    socket_errors = _SOCKET.search(output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(float(rate.group(1)), errors, cpu, seconds)
