"""Server-Sent Events for console pages: a backlog, then a viewer's live messages.

The stream ends when the page goes away, when the app shuts down (the viewer
is registered with the runtime's hub, which ends every open stream first), or
never blocks anything in between: a ``: ping`` comment keeps idle proxies and
disconnect detection honest.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.responses import StreamingResponse

from motia.console.fanout import Fanout, Viewer

__all__ = ["PING_INTERVAL", "event_response", "sse_frame"]

PING_INTERVAL = 10.0
_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def sse_frame(event: str, data: str) -> str:
    """One SSE frame; ``data`` is one line of JSON text."""
    return f"event: {event}\ndata: {data}\n\n"


def event_response(
    fanout: Fanout, backlog: Iterable[str], sinks: set[Any] | None
) -> StreamingResponse:
    """A ``text/event-stream`` of ``backlog`` frames, then the live ones."""
    viewer = fanout.join()
    if sinks is not None:
        sinks.add(viewer)
    stream = _frames(fanout, viewer, list(backlog), sinks)
    return StreamingResponse(stream, media_type="text/event-stream", headers=_HEADERS)


async def _frames(
    fanout: Fanout, viewer: Viewer, backlog: list[str], sinks: set[Any] | None
) -> AsyncIterator[str]:
    try:
        yield "retry: 1000\n\n" + "".join(backlog) + sse_frame("ready", "{}")
        while not viewer.closed:
            await viewer.wait(PING_INTERVAL)
            yield _batch(viewer)
    finally:
        fanout.leave(viewer)
        if sinks is not None:
            sinks.discard(viewer)


def _batch(viewer: Viewer) -> str:
    frames = "".join(viewer.drain())
    dropped = viewer.take_dropped()
    if dropped:
        frames += sse_frame("dropped", json.dumps({"count": dropped}))
    return frames or ": ping\n\n"
