"""Replay buffers stay within their byte bound in a real server: 40 stream groups, each
subscribed to once over SSE and left, then sent 512 updates of 8 KB with nobody
watching. The process's resident memory may grow by the configured bound, plus what the
allocator keeps, and no more."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from support import motia_process, write_step

pytestmark = pytest.mark.slow

BIG = "config = {'name': 'big'}\n"

FILL = """
from motia import http

config = {"name": "Fill", "triggers": [http("POST", "/fill/:group")]}

async def handler(args, ctx):
    group = args.request.path_params["group"]
    blob = "x" * 8192
    for n in range(512):
        await ctx.streams.big.set(group, "item", {"n": n, "blob": blob})
    return {"status": 200, "body": {"filled": group}}
"""

GROUPS = 40
BOUND = 16 * 1024 * 1024
ALLOCATOR_SLACK = 24 * 1024 * 1024


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def join_and_leave(url: str) -> None:
    with httpx.stream("GET", url, timeout=10) as response:
        for chunk in response.iter_bytes():
            if b"event: sync" in chunk:
                return


@pytest.mark.timeout(120)
def test_idle_groups_of_large_replayed_items_stay_within_the_byte_bound(tmp_path: Path) -> None:
    write_step(tmp_path / "steps", "big.stream.py", BIG)
    write_step(tmp_path / "steps", "fill.step.py", FILL)
    options = ["--replay-total-bytes", str(BOUND), "--replay-idle-timeout", "600"]
    with motia_process("start", tmp_path, *options) as server, httpx.Client(timeout=30) as client:
        for group in range(2):  # warm up: imports, first allocations
            join_and_leave(f"{server.url}/streams/big/warm{group}")
            client.post(f"{server.url}/fill/warm{group}").raise_for_status()
        before = rss(server.process.pid)
        for group in range(GROUPS):
            reader = threading.Thread(
                target=join_and_leave, args=(f"{server.url}/streams/big/g{group}",)
            )
            reader.start()
            reader.join(10)
            client.post(f"{server.url}/fill/g{group}").raise_for_status()
        grown = rss(server.process.pid) - before
        print(f"RSS grew by {grown / 2**20:.1f} MiB for a {BOUND / 2**20:.0f} MiB replay bound")
        assert grown < BOUND + ALLOCATOR_SLACK, f"RSS grew by {grown / 2**20:.1f} MiB"
