"""Scenario 4: what an idle SSE connection (heartbeats on) costs the server in RSS and tasks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import aio
from bench.config import Config
from bench.load.sse import Stream, open_many
from bench.sampling import APPS, Sample, interleave, report
from bench.server import Server, serve
from bench.stats import bar

PEERS = ("raw", "starlette", "sse-starlette", "motia")
SETTLE = 1.0
"""Seconds to let the server settle before and after opening the connections."""


def run(config: Config) -> list[dict[str, Any]]:
    results = []
    for count in config.idle_counts:
        memory, tasks = _scenario(config, count)
        memory.update(id=f"idle_kib_{count}", title=f"4. Idle SSE, KiB RSS per connection "
                      f"({count:,} connections)", bars=[_memory_bar(memory)])  # fmt: skip
        tasks.update(id=f"idle_tasks_{count}", title=f"4. Idle SSE, asyncio tasks per connection "
                     f"({count:,} connections)", bars=[_tasks_bar(tasks)])  # fmt: skip
        results += [memory, tasks]
    return results


def _scenario(config: Config, count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    def measure(peer: str) -> Sample:
        with serve(APPS[peer]) as server:
            return aio.run(_hold(server, count), timeout=60 + count / 50)

    samples = interleave(PEERS, config.rounds, measure)
    tasks = {
        peer: [Sample(s.extra["tasks"], s.server_cpu, s.client_cpu) for s in runs]
        for peer, runs in samples.items()
    }
    return report(samples, "KiB/connection"), report(tasks, "tasks/connection")


async def _hold(server: Server, count: int) -> Sample:
    """Open ``count`` idle streams, measure the server, then close them all."""
    warm = await open_many(server.port, "/idle", 10)
    _close(warm)
    await asyncio.sleep(SETTLE)
    before_rss, before_tasks = server.rss(), server.probe()["tasks"]
    streams = await open_many(server.port, "/idle", count)
    await asyncio.sleep(SETTLE)
    after_rss, after_tasks = server.rss(), server.probe()["tasks"]
    alive = sum(1 for s in streams if not s.closed.done())
    _close(streams)
    if alive != count:
        raise RuntimeError(f"{count - alive} of {count} idle streams closed early")
    kib = (after_rss - before_rss) / 1024 / count
    return Sample(kib, extra={"tasks": (after_tasks - before_tasks) / count, "at": time.time()})


def _close(streams: list[Stream]) -> None:
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()


def _memory_bar(result: dict[str, Any]) -> dict[str, Any]:
    return bar("motia KiB per connection <= 20", result["peers"]["motia"]["median"], 20,
               at_most=True)  # fmt: skip


def _tasks_bar(result: dict[str, Any]) -> dict[str, Any]:
    return bar("motia tasks per connection <= 2", result["peers"]["motia"]["median"], 2,
               at_most=True)  # fmt: skip
