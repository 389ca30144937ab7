"""Scenario 10: opening event streams whose handler has nothing to say yet.

N clients ask for ``GET /wait`` at once; each app's handler declares an event
stream and waits (an LLM thinking, a job starting). A sample is the time from the
first connect until every client has the response head (status and headers), the
moment a browser's ``EventSource.onopen`` fires.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import aio
from bench.config import Config
from bench.load.sse import Stream, open_stream
from bench.sampling import APPS, Sample, interleave, report, window
from bench.server import Server, serve
from bench.stats import bar

PEERS = ("raw", "starlette", "motia")
HEAD_TIMEOUT = 60.0


def run(config: Config) -> list[dict[str, Any]]:
    results = []
    for count in config.open_counts:

        def measure(peer: str, count: int = count) -> Sample:
            with serve(APPS[peer]) as server:
                return aio.run(_open(server, count), timeout=HEAD_TIMEOUT + 30)

        result = report(interleave(PEERS, config.rounds, measure), "ms (last head)")
        result.update(
            id=f"open_{count}",
            title=f"10. Opening {count:,} event streams that send nothing yet: ms until the "
            "last client has the head",
            bars=[
                bar("motia time / starlette time <= 1.0",
                    result["ratios"]["starlette"]["median"], 1.0, at_most=True)
            ],
        )  # fmt: skip
        results.append(result)
    return results


async def _open(server: Server, count: int) -> Sample:
    with window(server) as spent:
        start = time.monotonic()
        streams = await asyncio.gather(*(open_stream(server.port, "/wait") for _ in range(count)))
        heads = await asyncio.wait_for(asyncio.gather(*(s.head for s in streams)), HEAD_TIMEOUT)
        elapsed = (time.monotonic() - start) * 1000
    _close(streams)
    if not all(heads):
        raise ConnectionError(f"{heads.count(False)} of {count} streams closed before the head")
    return Sample(elapsed, *spent.utilisation())


def _close(streams: list[Stream]) -> None:
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
