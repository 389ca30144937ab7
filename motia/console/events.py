"""Server-Sent Events for console pages: a backlog, then a viewer's live messages.

The stream ends when the page goes away, when the app shuts down (the viewer
is registered with the runtime's hub, which ends every open stream first), or
never blocks anything in between: a ``: ping`` comment keeps idle proxies and
disconnect detection honest.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse

from motia.console.fanout import Fanout, Viewer

__all__ = ["PING_INTERVAL", "event_response", "sse_frame"]

PING_INTERVAL = 10.0
_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def sse_frame(event: str, data: str) -> str:
    """One SSE frame; ``data`` is one line of JSON text."""
    return f"event: {event}\ndata: {data}\n\n"


def event_response(fanout: Fanout, backlog: Callable[[], list[str]], hub: Any) -> StreamingResponse:
    """A ``text/event-stream`` of the ``backlog()`` frames, then the live ones."""
    stream = _frames(fanout, backlog, hub)
    return StreamingResponse(stream, media_type="text/event-stream", headers=_HEADERS)


async def _frames(fanout: Fanout, backlog: Callable[[], list[str]], hub: Any) -> AsyncIterator[str]:
    # Joined here, not before the response starts: whatever ends the body runs the cleanup.
    viewer = fanout.join()
    first = "retry: 1000\n\n" + "".join(backlog()) + sse_frame("ready", "{}")
    # In the hub's sinks, the runtime's shutdown ends this stream with every other open one.
    sinks = getattr(hub, "sinks", None)
    sinks = sinks if isinstance(sinks, set) else set()
    sinks.add(viewer)
    if getattr(hub, "closing", False):
        viewer.shutdown()
    try:
        yield first
        while not viewer.closed:
            await viewer.wait(PING_INTERVAL)
            yield _batch(viewer)
    finally:
        fanout.leave(viewer)
        sinks.discard(viewer)


def _batch(viewer: Viewer) -> str:
    frames = "".join(viewer.drain())
    dropped = viewer.take_dropped()
    if dropped:
        frames += sse_frame("dropped", json.dumps({"count": dropped}))
    return frames or ": ping\n\n"
