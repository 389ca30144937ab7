"""The HTTP response a handler writes to, and ``ApiResponse`` for returned values.

A handler may return a value (sent as one response) or stream: ``status()``,
``headers()``, then ``write()``/``send()`` and ``close()``. Writes go into a
bounded buffer that a short-lived flush task hands to the ASGI ``send``; an
idle stream costs no task but the disconnect watcher. Policy when a client
reads too slowly: once more than ``max_buffer`` bytes wait to be sent, the
stream is closed as a slow consumer, logged and counted, and the handler is
cancelled as if the client had left.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, Field

from motia.sse import PING, encode_event
from motia.wire import Receive, Send, encode_headers, end_to_end

__all__ = ["ApiResponse", "MotiaHttpResponse", "ResponseStartedError", "StreamStats"]

log = logging.getLogger("motia.http")

_HIGH_WATER = 64 * 1024


class ApiResponse(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    status: int = 200
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)


class ResponseStartedError(RuntimeError):
    """Status or headers changed after the first body byte was written."""


class StreamStats:
    """Counters shared by every response of an app (for logs, health and tests)."""

    def __init__(self) -> None:
        self.open_streams = 0
        self.slow_client_closes = 0
        self.dropped_writes = 0


class MotiaHttpResponse:
    __slots__ = (
        "_buffer",
        "_buffered",
        "_cancel",
        "_close_requested",
        "_closed_event",
        "_drained",
        "_ended",
        "_flush_task",
        "_headers",
        "_heartbeat",
        "_heartbeat_interval",
        "_last_write",
        "_loop",
        "_max_buffer",
        "_receive",
        "_send",
        "_started",
        "_stats",
        "_status",
        "_thread",
        "_touched",
        "_watcher",
        "body_written",
        "closed",
        "trace_id",
    )  # fmt: skip

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
        self._send = send
        self._receive = receive
        self.trace_id = trace_id
        self._heartbeat_interval = heartbeat_interval
        self._max_buffer = max_buffer
        self._stats = stats
        self._status = 200
        self._headers: dict[str, str] = {}
        self._touched = False
        self._started = False
        self.body_written = False
        self.closed = False
        self._close_requested = False
        self._ended = False
        self._buffer: deque[bytes] = deque()
        self._buffered = 0
        self._flush_task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.TimerHandle | None = None
        self._cancel: Callable[[], None] | None = None
        self._closed_event: asyncio.Event | None = None
        self._drained: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._last_write = 0.0

    # -- what handlers call -------------------------------------------------------------

    async def status(self, code: int) -> None:
        self._before_body("status")
        self._status = int(code)

    async def headers(self, headers: dict[str, str]) -> None:
        self._before_body("headers")
        for name, value in headers.items():
            self._headers[name.lower()] = str(value)
        if self._is_event_stream():
            self._start_heartbeat()

    @property
    def writer(self) -> MotiaHttpResponse:
        return self

    @property
    def stream(self) -> MotiaHttpResponse:
        return self

    def write(self, data: bytes | str) -> None:
        """Queue bytes for the client without waiting; safe from a worker thread."""
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self._write, data)
        else:
            self._write(data)

    async def send(
        self,
        data: Any = None,
        *,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
    ) -> None:
        """Write one SSE frame; waits while the client is behind."""
        self._write(encode_event(data, event=event, id=id, retry=retry))
        if self._buffered > _HIGH_WATER and not self.closed:
            await self._wait_drained()

    async def drain(self) -> None:
        """Wait until the buffered bytes have been handed to the server."""
        if self._buffered and not self.closed:
            await self._wait_drained()

    def close(self) -> None:
        """End the body (idempotent); bytes already written are still delivered."""
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self._request_close)
        else:
            self._request_close()

    @property
    def is_closed(self) -> bool:
        self._stream_mode()
        return self.closed or self._close_requested

    async def wait_closed(self) -> None:
        self._stream_mode()
        if not self.closed:
            if self._closed_event is None:
                self._closed_event = asyncio.Event()
            await self._closed_event.wait()

    # -- used by the request adapter ------------------------------------------------

    @property
    def touched(self) -> bool:
        return self._touched

    @property
    def ended(self) -> bool:
        """The body was ended (``close()`` or a lost client): nothing else can be sent."""
        return self.closed or self._close_requested

    def bind(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    async def finish(self) -> None:
        """The handler returned: deliver what is buffered and end the body."""
        self._request_close()
        task = self._flush_task
        if task is not None:
            await asyncio.shield(task)
        self.release()

    def abort(self) -> None:
        """Stop now (shutdown or disconnect): nothing more is sent, the handler is cancelled."""
        self._mark_closed()
        if self._cancel is not None:
            self._cancel()

    def shutdown(self) -> None:
        """The server is stopping: cancel the handler; the adapter then ends the body."""
        if self._cancel is not None:
            self._cancel()

    async def send_error(self, message: str) -> None:
        self._write(encode_event({"message": message, "trace_id": self.trace_id}, event="error"))
        await self.finish()

    # -- internals ------------------------------------------------------------------

    def _before_body(self, what: str) -> None:
        if self.body_written:
            raise ResponseStartedError(
                f"response.{what}() called after the first body byte was written; "
                f"set status and headers before writing"
            )
        self._stream_mode()

    def _stream_mode(self) -> None:
        if self._touched:
            return
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self._stream_mode)  # a sync handler's thread
            return
        self._touched = True
        self._stats.open_streams += 1
        self._watcher = asyncio.get_running_loop().create_task(self._watch_disconnect())

    def _write(self, data: bytes | str) -> None:
        if self.closed or self._close_requested:
            self._stats.dropped_writes += 1
            return
        chunk = data.encode() if isinstance(data, str) else bytes(data)
        if not chunk:
            return
        if not self.body_written:
            self._first_body_byte()
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        self._last_write = time.monotonic()
        if self._buffered > self._max_buffer:
            self._slow_client()
        else:
            self._schedule_flush()

    def _first_body_byte(self) -> None:
        self._stream_mode()
        self.body_written = True
        if self._is_event_stream():
            self._prepare_event_stream()

    def _is_event_stream(self) -> bool:
        return self._headers.get("content-type", "").startswith("text/event-stream")

    def _prepare_event_stream(self) -> None:
        self._headers.setdefault("cache-control", "no-cache")
        self._headers.setdefault("x-accel-buffering", "no")
        self._start_heartbeat()

    def _start_heartbeat(self) -> None:
        """Pings start once the handler declares an event stream, even before it writes."""
        if self._heartbeat is None and self._heartbeat_interval > 0:
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(self._heartbeat_interval, self._beat)

    def _beat(self) -> None:
        if self.closed or self._close_requested:
            return
        idle = time.monotonic() - self._last_write
        if idle >= self._heartbeat_interval * 0.98:
            self._write(PING)
            idle = 0.0
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.call_later(self._heartbeat_interval - idle, self._beat)

    def _request_close(self) -> None:
        if self._close_requested or self.closed:
            return
        self._close_requested = True
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None and not self.closed:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while not self.closed:
                if not self._started:
                    await self._send_start()
                if self._buffer:
                    chunk = b"".join(self._buffer)
                    self._buffer.clear()
                    self._buffered = 0
                    self._wake_writers()
                    await self._send(
                        {"type": "http.response.body", "body": chunk, "more_body": True}
                    )
                    continue
                if self._close_requested:
                    await self._send({"type": "http.response.body", "body": b""})
                    self._ended = True
                    self._mark_closed()
                return
        except (OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.abort()
        finally:
            self._flush_task = None

    async def _send_start(self) -> None:
        self._started = True
        headers = end_to_end(self._headers)
        headers["x-trace-id"] = self.trace_id
        await self._send(
            {"type": "http.response.start", "status": self._status,
             "headers": encode_headers(headers)}
        )  # fmt: skip

    async def _watch_disconnect(self) -> None:
        try:
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    break
        except (OSError, RuntimeError):
            pass
        if not self._ended:
            self.abort()

    def _slow_client(self) -> None:
        self._stats.slow_client_closes += 1
        log.warning(
            "closing a stream whose client reads too slowly: %d bytes waiting (limit %d)",
            self._buffered,
            self._max_buffer,
            extra={"trace_id": self.trace_id},
        )
        self.abort()

    def _mark_closed(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._buffer.clear()
        self._buffered = 0
        self._wake_writers()
        if self._closed_event is not None:
            self._closed_event.set()
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    def release(self) -> None:
        """Stop watching the client; called once the response is complete."""
        self._mark_closed()
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
            self._stats.open_streams -= 1

    async def _wait_drained(self) -> None:
        if self._drained is None:
            self._drained = asyncio.Event()
        self._drained.clear()
        await self._drained.wait()

    def _wake_writers(self) -> None:
        if self._drained is not None:
            self._drained.set()
