"""``EventStream``: read a Server-Sent Events response with a deadline, never hanging.

``async with client.sse(path, max_events=3) as events:`` sends the request; iterating
``events`` yields parsed ``ServerSentEvent`` objects and stops after ``max_events``
events or when the server ends the stream. Past ``timeout`` seconds (counted from
the request) the test fails, listing what was received. Leaving the block
disconnects and waits until the server-side handler has finished.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from motia.sse import ServerSentEvent, SSEParser
from motia.testing.failures import describe, fail

__all__ = ["EventStream"]


class EventStream:
    def __init__(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        *,
        max_events: int | None,
        timeout: float,
    ) -> None:
        self.client = client
        self.request = request
        self.max_events = max_events
        self.timeout = timeout
        self.received: list[ServerSentEvent] = []
        self._response: httpx.Response | None = None
        self._parser = SSEParser()
        self._pending: deque[ServerSentEvent] = deque()
        self._chunks: AsyncIterator[bytes] | None = None
        self._deadline = 0.0

    @property
    def label(self) -> str:
        return f"{self.request.method} {self.request.url.path}"

    @property
    def response(self) -> httpx.Response:
        if self._response is None:
            raise RuntimeError("the event stream is not open; use `async with client.sse(...)`")
        return self._response

    async def __aenter__(self) -> EventStream:
        self._deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(self._deadline):
                self._response = await self.client.send(self.request, stream=True)
        except TimeoutError:
            fail(f"{self.label}: no response headers within {self.timeout}s")
        await self._expect_event_stream(self._response)
        self._chunks = self._response.aiter_raw()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Disconnect; returns once the server-side handler has finished."""
        if self._response is not None:
            await self._response.aclose()

    def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        return self._events()

    async def collect(self) -> list[ServerSentEvent]:
        """Every event up to ``max_events`` (or the end of the stream)."""
        return [event async for event in self]

    async def _events(self) -> AsyncIterator[ServerSentEvent]:
        while self.max_events is None or len(self.received) < self.max_events:
            if not self._pending:
                chunk = await self._next_chunk()
                if chunk is None:
                    return
                self._pending.extend(self._parser.feed(chunk))
                continue
            event = self._pending.popleft()
            self.received.append(event)
            yield event

    async def _next_chunk(self) -> bytes | None:
        if self._chunks is None:
            raise RuntimeError("the event stream is not open; use `async with client.sse(...)`")
        try:
            async with asyncio.timeout_at(self._deadline):
                return await anext(self._chunks)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            fail(self._timeout_message())

    def _timeout_message(self) -> str:
        wanted = (
            f"expected {self.max_events} event(s)"
            if self.max_events is not None
            else "the stream was still open (pass max_events=N to stop after N events)"
        )
        return f"{self.label}: {wanted} within {self.timeout}s; received {describe(self.received)}"

    async def _expect_event_stream(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code == 200 and content_type.startswith("text/event-stream"):
            return
        body = await _body_preview(response)
        await response.aclose()
        fail(
            f"{self.label}: expected a 200 text/event-stream response, got "
            f"{response.status_code} {content_type or '(no content-type)'}: {body}"
        )


async def _body_preview(response: httpx.Response, limit: int = 500) -> Any:
    try:
        async with asyncio.timeout(1.0):
            async for chunk in response.aiter_raw():
                return chunk[:limit]
    except TimeoutError:
        return "(no body within 1s)"
    return b""
