"""Scenario 9: idle event streams, each waiting on its own queue, woken by one broadcast.

Every app serves ``GET /wait?ready=1``: the head, a ``ready`` frame, then one
``event: item`` frame per item put in the stream's own ``asyncio.Queue`` (the shape
a Starlette or raw ASGI user writes); ``POST /wake`` puts one item in every queue.
Times run from the moment the POST is written to each stream's receipt of the
frame; a sample is the median over several wakes of the time the last stream had it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from bench import aio
from bench.config import Config
from bench.load.sse import Stream, open_many
from bench.sampling import APPS, Sample, interleave, report, window
from bench.scenarios.fanout import Tally
from bench.server import HOST, Server, serve
from bench.stats import bar, percentile

PEERS = ("raw", "starlette", "motia")


def run(config: Config) -> list[dict[str, Any]]:
    results = []
    for count in config.wake_counts:

        def measure(peer: str, count: int = count) -> Sample:
            with serve(APPS[peer]) as server:
                return aio.run(_wakes(server, count, config), timeout=120 + count / 20)

        result = report(interleave(PEERS, config.rounds, measure), "ms (last stream)")
        result.update(
            id=f"wake_{count}",
            title=f"9. {count:,} idle event streams woken by one broadcast: ms until the last "
            "has it",
            bars=[
                bar("motia time / raw time <= 1.0", result["ratios"]["raw"]["median"], 1.0,
                    at_most=True)
            ],
        )  # fmt: skip
        results.append(result)
    return results


async def _wakes(server: Server, count: int, config: Config) -> Sample:
    tally = Tally()
    streams = await open_many(server.port, "/wait?ready=1", count)
    for stream in streams:
        stream.on_item = tally
    await asyncio.sleep(0.5)
    lasts, p50s = [], []
    with window(server) as spent:
        for k in range(1, config.fanout_repeats + 1):
            delays = await _wake(server.port, streams, lambda k=k: tally.wait(k * count))
            lasts.append(max(delays))
            p50s.append(percentile(delays, 50))
            await asyncio.sleep(0.2)
    _close(streams)
    return Sample(statistics.median(lasts), *spent.utilisation(),
                  extra={"p50_ms": statistics.median(p50s)})  # fmt: skip


async def _wake(port: int, streams: list[Stream], everyone: Any) -> list[float]:
    reader, writer = await asyncio.open_connection(HOST, port)
    start = time.monotonic()
    writer.write(
        f"POST /wake HTTP/1.1\r\nhost: {HOST}\r\ncontent-length: 0\r\n"
        "connection: close\r\n\r\n".encode()
    )
    await everyone()
    await reader.read()
    writer.close()
    return [(s.last_item_at - start) * 1000 for s in streams]


def _close(streams: list[Stream]) -> None:
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
