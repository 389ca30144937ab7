"""``MotiaClient``: an ``httpx.AsyncClient`` bound in-process to an ASGI app, SSE included."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import ASGIApp

from motia.sse import ServerSentEvent
from motia.testing.events import EventStream
from motia.testing.transport import StreamingASGITransport

__all__ = ["MotiaClient"]


class MotiaClient(httpx.AsyncClient):
    """Requests go straight to ``app`` (no network); responses stream as the app writes.

    ``sse_timeout`` is the default deadline of ``sse()``; ``disconnect_timeout`` how long
    closing a response waits for the server-side handler to finish.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        base_url: str = "http://testserver",
        sse_timeout: float = 5.0,
        disconnect_timeout: float = 5.0,
        state: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        transport = StreamingASGITransport(app, disconnect_timeout=disconnect_timeout, state=state)
        super().__init__(transport=transport, base_url=base_url, **kwargs)
        self.sse_timeout = sse_timeout

    def sse(
        self,
        url: str,
        *,
        method: str = "GET",
        max_events: int | None = None,
        timeout: float | None = None,
        **request: Any,
    ) -> EventStream:
        """``async with client.sse(url, max_events=N) as events: async for e in events``.

        ``request`` takes what ``httpx.AsyncClient.request`` does (``json``, ``data``,
        ``content``, ``params``, ``headers``...).
        """
        headers = {"accept": "text/event-stream", **(request.pop("headers", None) or {})}
        built = self.build_request(method, url, headers=headers, timeout=None, **request)
        deadline = self.sse_timeout if timeout is None else timeout
        return EventStream(self, built, max_events=max_events, timeout=deadline)

    async def sse_events(
        self,
        url: str,
        *,
        method: str = "GET",
        max_events: int | None = None,
        timeout: float | None = None,
        **request: Any,
    ) -> list[ServerSentEvent]:
        """Shorthand: open ``sse(...)``, collect its events, disconnect."""
        stream = self.sse(url, method=method, max_events=max_events, timeout=timeout, **request)
        async with stream as events:
            return await events.collect()
