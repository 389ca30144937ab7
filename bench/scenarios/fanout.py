"""Scenario 5: one stream write reaching every WebSocket subscriber of a group.

motia: ``ctx.streams.bench.set(...)`` from ``POST /broadcast``, received by N
WebSocket subscribers of group ``g``. The floor: a raw ASGI app writing one SSE
frame to N open streams from ``POST /broadcast``. Times run from the moment the
POST is written to each subscriber's receipt; a sample is the median over
several broadcasts of the time the last subscriber had it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import aio
from bench.config import Config
from bench.load.sse import open_many
from bench.load.ws import subscribe_many
from bench.sampling import APPS, Sample, interleave, report, window
from bench.server import HOST, Server, serve
from bench.stats import bar, percentile

PEERS = ("raw", "motia")
ARRIVAL_TIMEOUT = 30.0


class Tally:
    """Counts receipts as they happen; ``wait(total)`` returns once ``total`` have arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.reached: asyncio.Future[None] | None = None

    def __call__(self) -> None:
        self.count += 1
        if self.count >= self.target and self.reached and not self.reached.done():
            self.reached.set_result(None)

    async def wait(self, total: int) -> None:
        if self.count >= total:
            return
        self.target = total
        self.reached = asyncio.get_running_loop().create_future()
        await asyncio.wait_for(self.reached, ARRIVAL_TIMEOUT)


Arrivals = Callable[[int], list[float]]
"""Given the broadcast number k, each subscriber's receipt time of it."""


def run(config: Config) -> list[dict[str, Any]]:
    missing = _endpoint_missing()
    if missing:
        return [{"id": "fanout", "title": "5. Fan-out", "skipped": missing, "bars": []}]
    results = []
    for count in config.fanout_counts:

        def measure(peer: str, count: int = count) -> Sample:
            with serve(APPS[peer]) as server:
                connect = _motia if peer == "motia" else _raw
                budget = 120 + count / 20
                return aio.run(_broadcasts(server, connect, count, config), timeout=budget)

        result = report(interleave(PEERS, config.rounds, measure), "ms (last subscriber)")
        time_vs_raw = result["ratios"]["raw"]["median"]
        result.update(
            id=f"fanout_{count}",
            title=f"5. Fan-out of one write to {count:,} subscribers: ms until the last has it "
            "(motia: WebSocket stream; raw: SSE frame)",
            bars=[bar("motia time / raw broadcast time <= 1.0", time_vs_raw, 1.0, at_most=True)],
        )
        results.append(result)
    return results


async def _motia(port: int, count: int, tally: Tally) -> Arrivals:
    subscribers = await subscribe_many(port, "bench", "g", count)
    for subscriber in subscribers:
        subscriber.on_change = tally
    return lambda k: [s.changes[k - 1] for s in subscribers]


async def _raw(port: int, count: int, tally: Tally) -> Arrivals:
    streams = await open_many(port, "/idle", count)
    for stream in streams:
        stream.on_item = tally
    return lambda k: [s.last_item_at for s in streams]


def _endpoint_missing() -> str | None:
    """Why the motia WebSocket endpoint cannot be measured, or None when it can."""
    try:
        with serve(APPS["motia"]) as server:
            aio.run(subscribe_many(server.port, "bench", "g", 1), timeout=10)
    except (ConnectionError, OSError, TimeoutError) as exc:
        return f"the stream WebSocket endpoint did not take a subscriber: {exc}"
    return None


async def _broadcasts(server: Server, connect: Any, count: int, config: Config) -> Sample:
    tally = Tally()
    arrivals = await connect(server.port, count, tally)
    await asyncio.sleep(0.5)
    lasts, p50s, p99s = [], [], []
    with window(server) as spent:
        for k in range(1, config.fanout_repeats + 1):
            delays = await _one(server.port, k, arrivals, lambda k=k: tally.wait(k * count))
            lasts.append(max(delays))
            p50s.append(percentile(delays, 50))
            p99s.append(percentile(delays, 99))
            await asyncio.sleep(0.2)
    extra = {"p50_ms": statistics.median(p50s), "p99_ms": statistics.median(p99s)}
    return Sample(statistics.median(lasts), *spent.utilisation(), extra=extra)


async def _one(
    port: int, k: int, arrivals: Arrivals, everyone: Callable[[], Awaitable[None]]
) -> list[float]:
    reader, writer = await asyncio.open_connection(HOST, port)
    start = time.monotonic()
    writer.write(
        f"POST /broadcast?n={k} HTTP/1.1\r\nhost: {HOST}\r\ncontent-length: 0\r\n"
        "connection: close\r\n\r\n".encode()
    )
    await everyone()
    await reader.read()
    writer.close()
    return [(t - start) * 1000 for t in arrivals(k)]
