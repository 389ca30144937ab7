"""A bench-only ASGI wrapper that lets the harness look inside a running server.

``GET /__bench/stats`` answers the process's asyncio task count, the monotonic
times at which streaming handlers ran their ``finally`` blocks, and the
queue-job latencies recorded so far; ``POST /__bench/reset`` clears them.
Under ``PYTHONTRACEMALLOC=1``, ``GET /__bench/memory`` answers the allocations
made since its previous call, by source line (the first call sets the baseline). Every
app under test is wrapped the same way, so the cost of the path check is shared.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from typing import Any

Scope = dict[str, Any]

FINALLY: list[float] = []
"""``time.monotonic()`` when a streaming handler's ``finally`` ran."""

JOBS: list[tuple[float, float]] = []
"""``(enqueued_at, done_at)`` monotonic times of each finished queue job."""


def handler_finished() -> None:
    FINALLY.append(time.monotonic())


def job_done(enqueued_at: float) -> None:
    JOBS.append((enqueued_at, time.monotonic()))


def stats() -> dict[str, Any]:
    return {"tasks": len(asyncio.all_tasks()), "finally": FINALLY, "jobs": JOBS}


_baseline: list[tracemalloc.Snapshot] = []


def memory_growth(top: int = 25) -> list[str]:
    """Allocation growth by line since the previous call (needs tracemalloc tracing)."""
    if not tracemalloc.is_tracing():
        return ["tracemalloc is off: start the server with PYTHONTRACEMALLOC=1"]
    snapshot = tracemalloc.take_snapshot()
    previous = _baseline[-1] if _baseline else None
    _baseline[:] = [snapshot]
    if previous is None:
        return []
    return [str(d) for d in snapshot.compare_to(previous, "lineno")[:top]]


class Probe:
    """Answers ``/__bench/*`` itself and hands every other request to ``app``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/__bench/"):
            await self._answer(scope, send)
        else:
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Any) -> None:
        if scope["path"] == "/__bench/reset":
            FINALLY.clear()
            JOBS.clear()
        answer = memory_growth() if scope["path"] == "/__bench/memory" else stats()
        body = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
