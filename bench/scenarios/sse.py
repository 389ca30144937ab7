"""Scenario 3: SSE throughput, ~100-byte ``event: item`` frames as fast as they go."""

from __future__ import annotations

import asyncio
from typing import Any

from bench import aio
from bench.config import Config
from bench.load.sse import Stream, open_stream
from bench.sampling import APPS, Sample, interleave, per_cpu, report, window
from bench.server import serve
from bench.stats import bar

PEERS = ("raw", "starlette", "sse-starlette", "motia")


def run(config: Config) -> list[dict[str, Any]]:
    one = _scenario(config, 1, config.sse_events_one)
    many = _scenario(config, config.sse_clients, config.sse_events_each)
    one.update(id="sse_one", title="3a. SSE events/s, 1 client", bars=_bars(one))
    many.update(
        id="sse_many", title=f"3b. SSE events/s, {config.sse_clients} clients", bars=_bars(many)
    )
    return [one, many]


def _scenario(config: Config, clients: int, events: int) -> dict[str, Any]:
    def measure(peer: str) -> Sample:
        with serve(APPS[peer]) as server:
            aio.run(_read_all(server.port, 1, 1000), timeout=60)
            with window(server) as spent:
                aio.run(_read_all(server.port, clients, events), timeout=300)
        server_cpu, client_cpu = spent.utilisation()
        rate = clients * events / spent.seconds
        return Sample(rate, server_cpu, client_cpu, {"per_cpu": per_cpu(rate, server_cpu)})

    return report(interleave(PEERS, config.rounds, measure), "events/s")


async def _read_all(port: int, clients: int, events: int) -> None:
    streams = await asyncio.gather(*(open_stream(port, f"/sse?n={events}") for _ in range(clients)))
    await asyncio.gather(*(s.closed for s in streams))
    _verify(streams, events)


def _verify(streams: list[Stream], events: int) -> None:
    for stream in streams:
        if stream.status != 200 or stream.items != events or not stream.done:
            raise RuntimeError(
                f"stream got status {stream.status}, {stream.items}/{events} items, "
                f"done={stream.done}"
            )


def _bars(result: dict[str, Any]) -> list[dict[str, Any]]:
    ratios = result["ratios"]
    return [
        bar("motia / raw >= 0.8", ratios["raw"]["median"], 0.8),
        bar("motia / sse-starlette >= 2.5", ratios["sse-starlette"]["median"], 2.5),
    ]
