"""The HTTP response a handler writes to, and ``ApiResponse`` for returned values.

A handler may return a value (sent as one response) or stream: ``status()``,
``headers()``, then ``write()``/``send()`` and ``close()``. The bytes travel
through a ``BodyStream`` (motia/body_stream.py: buffering, pings, disconnects).
Every call is safe from a sync handler's worker thread: it hops to the loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from motia._core.asgi import Receive, Send
from motia._http.response_stream import HIGH_WATER, BodyStream
from motia._runtime.open_streams import OpenStreams
from motia._runtime.stats import StreamStats
from motia.exceptions import ResponseStartedError
from motia.sse import encode_event

__all__ = [
    "ApiResponse",
    "MotiaHttpResponse",
    "StreamOptions",
    "StreamStats",
]


class ApiResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    status: int = 200
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """How an endpoint's responses stream, decided once per endpoint."""

    heartbeat_interval: float
    max_buffer: int
    stats: StreamStats
    open_responses: OpenStreams
    """Responses streaming right now (the runtime ends them at shutdown)."""


class MotiaHttpResponse:
    """What a handler streams through; the wire half is made on first use only."""

    __slots__ = ("_body", "_cancel", "_loop", "_options", "_receive", "_send", "_thread",
                 "trace_id")  # fmt: skip

    def __init__(self, send: Send, receive: Receive, trace_id: str, options: StreamOptions):
        self._send = send
        self._receive = receive
        self.trace_id = trace_id
        self._options = options
        self._body: BodyStream | None = None
        self._cancel: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    # -- what handlers call -------------------------------------------------------------

    async def status(self, code: int) -> None:
        self._before_body("status").status = int(code)

    async def headers(self, headers: dict[str, str]) -> None:
        body = self._before_body("headers")
        for name, value in headers.items():
            body.headers[name.lower()] = str(value)
        if body.is_event_stream():
            self._on_loop(body.start_heartbeat)

    @property
    def writer(self) -> MotiaHttpResponse:
        return self

    @property
    def stream(self) -> MotiaHttpResponse:
        return self

    def write(self, data: bytes | str) -> None:
        """Queue bytes for the client without waiting."""
        self._on_loop(self._stream().write, data)

    async def send(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
    ) -> None:
        """Write one SSE frame; waits while the client is behind."""
        body = self._stream()
        body.write(encode_event(data, event=event, id=id, retry=retry))
        if body.buffered > HIGH_WATER and not body.closed:
            await body.wait_drained()

    async def drain(self) -> None:
        """Wait until the buffered bytes have been handed to the server."""
        body = self._body
        if body is not None and body.buffered and not body.closed:
            await body.wait_drained()

    def close(self) -> None:
        """End the body (idempotent); bytes already written are still delivered."""
        self._on_loop(self._stream().request_close)

    @property
    def is_closed(self) -> bool:
        body = self._stream()
        self._on_loop(body.watch)
        return body.closing

    async def wait_closed(self) -> None:
        body = self._stream()
        body.watch()
        await body.wait_closed()

    # -- used by the request adapter ----------------------------------------------------

    @property
    def touched(self) -> bool:
        """The handler used the streaming API (status, headers, writes or close checks)."""
        return self._body is not None and self._body.watching

    @property
    def body_written(self) -> bool:
        return self._body is not None and self._body.body_written

    @property
    def closed(self) -> bool:
        return self._body is not None and self._body.closed

    @property
    def ended(self) -> bool:
        """The body was ended (``close()`` or a lost client): nothing else can be sent."""
        return self._body is not None and self._body.closing

    @property
    def declared_status(self) -> int:
        return 200 if self._body is None else self._body.status

    @property
    def declared_headers(self) -> dict[str, str]:
        return {} if self._body is None else self._body.headers

    def bind(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        if self._body is not None:
            self._body.on_abort = cancel
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    async def finish(self) -> None:
        """The handler returned: deliver what is buffered and end the body."""
        await self._stream().finish()

    def shutdown(self) -> None:
        """The server is stopping: cancel the handler; the adapter then ends the body."""
        if self._cancel is not None:
            self._cancel()

    def release(self) -> None:
        if self._body is not None:
            self._body.release()
            self._options.open_responses.discard(self)

    async def send_error(self, message: str) -> None:
        body = self._stream()
        body.write(encode_event({"message": message, "trace_id": self.trace_id}, event="error"))
        await body.finish()

    # -- internals ----------------------------------------------------------------------

    def _stream(self) -> BodyStream:
        body = self._body
        if body is None:
            options = self._options
            body = self._body = BodyStream(
                self._send,
                self._receive,
                self.trace_id,
                heartbeat_interval=options.heartbeat_interval,
                max_buffer=options.max_buffer,
                stats=options.stats,
            )
            body.on_abort = self._cancel
            options.open_responses.add(self)
        return body

    def _before_body(self, what: str) -> BodyStream:
        body = self._stream()
        if body.body_written:
            raise ResponseStartedError(
                f"response.{what}() called after the first body byte was written; "
                f"set status and headers before writing"
            )
        self._on_loop(body.watch)
        return body

    def _on_loop(self, action: Callable[..., None], *args: Any) -> None:
        """Run ``action`` now on the loop's thread, or hand it over from a worker thread."""
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(action, *args)
        else:
            action(*args)
