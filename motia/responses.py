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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from motia.body_stream import HIGH_WATER, BodyStream, StreamStats
from motia.sse import encode_event
from motia.wire import Receive, Send

__all__ = ["ApiResponse", "MotiaHttpResponse", "ResponseStartedError", "StreamStats"]


class ApiResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    status: int = 200
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


class ResponseStartedError(RuntimeError):
    """Status or headers changed after the first body byte was written."""


class MotiaHttpResponse:
    __slots__ = ("_body", "_cancel", "_loop", "_thread", "trace_id")

    def __init__(
        self,
        send: Send,
        receive: Receive,
        trace_id: str,
        *,
        heartbeat_interval: float,
        max_buffer: int,
        stats: StreamStats,
    ) -> None:
        self.trace_id = trace_id
        self._body = BodyStream(
            send,
            receive,
            trace_id,
            heartbeat_interval=heartbeat_interval,
            max_buffer=max_buffer,
            stats=stats,
        )
        self._cancel: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    # -- what handlers call -------------------------------------------------------------

    async def status(self, code: int) -> None:
        self._before_body("status")
        self._body.status = int(code)

    async def headers(self, headers: dict[str, str]) -> None:
        self._before_body("headers")
        for name, value in headers.items():
            self._body.headers[name.lower()] = str(value)
        if self._body.is_event_stream():
            self._on_loop(self._body.start_heartbeat)

    @property
    def writer(self) -> MotiaHttpResponse:
        return self

    @property
    def stream(self) -> MotiaHttpResponse:
        return self

    def write(self, data: bytes | str) -> None:
        """Queue bytes for the client without waiting."""
        self._on_loop(self._body.write, data)

    async def send(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
    ) -> None:
        """Write one SSE frame; waits while the client is behind."""
        self._body.write(encode_event(data, event=event, id=id, retry=retry))
        if self._body.buffered > HIGH_WATER and not self._body.closed:
            await self._body.wait_drained()

    async def drain(self) -> None:
        """Wait until the buffered bytes have been handed to the server."""
        if self._body.buffered and not self._body.closed:
            await self._body.wait_drained()

    def close(self) -> None:
        """End the body (idempotent); bytes already written are still delivered."""
        self._on_loop(self._body.request_close)

    @property
    def is_closed(self) -> bool:
        self._on_loop(self._body.watch)
        return self._body.closing

    async def wait_closed(self) -> None:
        self._body.watch()
        await self._body.wait_closed()

    # -- used by the request adapter ----------------------------------------------------

    @property
    def touched(self) -> bool:
        """The handler used the streaming API (status, headers, writes or close checks)."""
        return self._body.watching

    @property
    def body_written(self) -> bool:
        return self._body.body_written

    @property
    def closed(self) -> bool:
        return self._body.closed

    @property
    def ended(self) -> bool:
        """The body was ended (``close()`` or a lost client): nothing else can be sent."""
        return self._body.closing

    @property
    def declared_status(self) -> int:
        return self._body.status

    @property
    def declared_headers(self) -> dict[str, str]:
        return self._body.headers

    def bind(self, cancel: Callable[[], None]) -> None:
        self._cancel = self._body.on_abort = cancel
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    async def finish(self) -> None:
        """The handler returned: deliver what is buffered and end the body."""
        await self._body.finish()

    def shutdown(self) -> None:
        """The server is stopping: cancel the handler; the adapter then ends the body."""
        if self._cancel is not None:
            self._cancel()

    def release(self) -> None:
        self._body.release()

    async def send_error(self, message: str) -> None:
        error = {"message": message, "trace_id": self.trace_id}
        self._body.write(encode_event(error, event="error"))
        await self._body.finish()

    # -- internals ----------------------------------------------------------------------

    def _before_body(self, what: str) -> None:
        if self._body.body_written:
            raise ResponseStartedError(
                f"response.{what}() called after the first body byte was written; "
                f"set status and headers before writing"
            )
        self._on_loop(self._body.watch)

    def _on_loop(self, action: Callable[..., None], *args: Any) -> None:
        """Run ``action`` now on the loop's thread, or hand it over from a worker thread."""
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(action, *args)
        else:
            action(*args)
