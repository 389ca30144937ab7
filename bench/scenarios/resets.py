"""Scenario 6: simultaneous client resets (RST) on open streams, until each handler's ``finally``.

Each client closes with SO_LINGER 0. Detection times pair the k-th reset with
the k-th ``finally`` (both sorted), using the shared monotonic clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import aio
from bench.config import Config
from bench.load.sse import open_many
from bench.sampling import APPS, Sample, interleave, report
from bench.server import Server, serve
from bench.stats import bar, percentile

PEERS = ("raw", "starlette", "sse-starlette", "motia")
DEADLINE = 5.0
"""Seconds the server gets to notice every reset."""


def run(config: Config) -> list[dict[str, Any]]:
    def measure(peer: str) -> Sample:
        with serve(APPS[peer]) as server:
            return aio.run(_reset_all(server, config.resets), timeout=60)

    samples = interleave(PEERS, config.rounds, measure)
    result = report(samples, "ms (median detection)")
    motia = samples["motia"]
    left = max(s.extra["tasks_left"] for s in motia)
    missed = max(s.extra["undetected"] for s in motia)
    result.update(
        id="resets",
        title=f"6. {config.resets} simultaneous client resets: ms to the handler's finally",
        bars=[
            bar("motia median detection <= 10 ms", result["peers"]["motia"]["median"], 10,
                at_most=True),
            bar("motia tasks left after the resets == 0", left, 0, at_most=True),
            bar("motia resets not noticed == 0", missed, 0, at_most=True),
        ],
    )  # fmt: skip
    return [result]


async def _reset_all(server: Server, count: int) -> Sample:
    before = server.probe("/__bench/reset")["tasks"]
    streams = await open_many(server.port, "/idle", count)
    await asyncio.sleep(0.5)
    resets = []
    for stream in streams:
        resets.append(time.monotonic())
        stream.reset()
    finals = await _wait_finals(server, count)
    await asyncio.sleep(0.2)
    left = server.probe()["tasks"] - before
    delays = [(f - r) * 1000 for f, r in zip(sorted(finals), resets, strict=False)]
    extra = {
        "p99_ms": percentile(delays, 99),
        "max_ms": max(delays, default=float("nan")),
        "undetected": count - len(finals),
        "tasks_left": left,
        "reset_loop_ms": (resets[-1] - resets[0]) * 1000,
    }
    return Sample(percentile(delays, 50), extra=extra)


async def _wait_finals(server: Server, count: int) -> list[float]:
    deadline = time.monotonic() + DEADLINE
    while True:
        finals: list[float] = server.probe()["finally"]
        if len(finals) >= count or time.monotonic() > deadline:
            return finals
        await asyncio.sleep(0.05)
