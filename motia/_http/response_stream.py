"""The wire half of a response: headers as they go out, and a streamed body's bytes from
the handler to the ASGI ``send``.

Writes go into a bounded buffer that a short-lived flush task hands to
``send`` (coalescing whatever piled up meanwhile), so an idle stream costs no
task but the disconnect watcher. Event streams get a ``: ping`` after each
heartbeat interval of silence. Policy when a client reads too slowly: once
more than ``max_buffer`` bytes wait to be sent, the stream is closed as a slow
consumer, logged and counted, and ``on_abort`` cancels the handler as if the
client had left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import anyio

from motia._core.asgi import Receive, Send
from motia._runtime.stats import Stats
from motia.sse import PING

__all__ = ["HIGH_WATER", "BodyStream", "Waiters", "encode_headers", "end_to_end"]

log = logging.getLogger("motia.http")

HIGH_WATER = 64 * 1024
"""Buffered bytes past which ``send()`` waits for the client."""

_SEND_FAILURES = (OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError)


_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
     "upgrade"}
)  # fmt: skip


def end_to_end(headers: dict[str, str]) -> dict[str, str]:
    """The headers without hop-by-hop ones, which only the server may set."""
    return {name: value for name, value in headers.items() if name not in _HOP_BY_HOP}


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class Waiters:
    """Tasks waiting for one thing to happen: cheaper than an ``asyncio.Event`` per stream."""

    __slots__ = ("_futures",)

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[None]] = []

    async def wait(self) -> None:
        future = asyncio.get_running_loop().create_future()
        self._futures.append(future)
        try:
            await future
        finally:
            if future in self._futures:
                self._futures.remove(future)

    def wake(self) -> None:
        futures, self._futures = self._futures, []
        for future in futures:
            if not future.done():
                future.set_result(None)


class BodyStream:
    __slots__ = (
        "_buffer", "_buffered", "_close_requested", "_closed_waiters", "_drained", "_flush_task",
        "_heartbeat", "_heartbeat_interval", "_last_write", "_max_buffer", "_receive", "_send",
        "_started", "_stats", "_watcher", "body_written", "closed", "completed", "headers",
        "on_abort", "status", "trace_id", "watching",
    )  # fmt: skip

    def __init__(
        self,
        send: Send,
        receive: Receive,
        trace_id: str,
        *,
        heartbeat_interval: float,
        max_buffer: int,
        stats: Stats,
    ) -> None:
        self._send = send
        self._receive = receive
        self.trace_id = trace_id
        self._heartbeat_interval = heartbeat_interval
        self._max_buffer = max_buffer
        self._stats = stats
        self.status = 200
        self.headers: dict[str, str] = {}
        self.on_abort: Callable[[], None] | None = None
        self.watching = False
        self._started = False
        self.body_written = False
        self.closed = False
        self.completed = False
        """The last body message went out: the response is whole, a disconnect changes nothing."""
        self._close_requested = False
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._flush_task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.TimerHandle | None = None
        self._closed_waiters: Waiters | None = None
        self._drained: Waiters | None = None
        self._last_write = 0.0

    # -- fed by the response ------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return self._buffered

    @property
    def closing(self) -> bool:
        """The body is ending or ended: nothing more can be written."""
        return self.closed or self._close_requested

    def watch(self) -> None:
        """Start noticing the client leaving (once: the response is streaming from now on)."""
        if not self.watching:
            self.watching = True
            self._stats.open_streams += 1
            self._watcher = asyncio.get_running_loop().create_task(self._watch_disconnect())

    def write(self, data: bytes | str) -> None:
        if self.closing:
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

    def is_event_stream(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")

    def start_heartbeat(self) -> None:
        """Pings start once the handler declares an event stream, even before it writes."""
        if self._heartbeat is None and self._heartbeat_interval > 0:
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(self._heartbeat_interval, self._beat)

    def request_close(self) -> None:
        if not self.closing:
            self._close_requested = True
            self._schedule_flush()

    async def wait_drained(self) -> None:
        if self._drained is None:
            self._drained = Waiters()
        await self._drained.wait()

    async def wait_closed(self) -> None:
        if not self.closed:
            if self._closed_waiters is None:
                self._closed_waiters = Waiters()
            await self._closed_waiters.wait()

    # -- ending -------------------------------------------------------------------------

    async def finish(self) -> None:
        """Deliver what is buffered and end the body."""
        self.request_close()
        task = self._flush_task
        if task is not None:
            await asyncio.shield(task)
        self.release()

    def abort(self) -> None:
        """Stop now (disconnect or slow client): nothing more is sent, the handler is cancelled."""
        self._mark_closed()
        if self.on_abort is not None:
            self.on_abort()

    def release(self) -> None:
        """Stop watching the client; called once the response is complete."""
        self._mark_closed()
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
            self._stats.open_streams -= 1

    # -- internals ----------------------------------------------------------------------

    def _first_body_byte(self) -> None:
        self.watch()
        self.body_written = True
        if self.is_event_stream():
            self.headers.setdefault("cache-control", "no-cache")
            self.headers.setdefault("x-accel-buffering", "no")
            self.start_heartbeat()

    def _beat(self) -> None:
        if self.closing:
            return
        idle = time.monotonic() - self._last_write
        if idle >= self._heartbeat_interval * 0.98:
            self.write(PING)
            idle = 0.0
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.call_later(self._heartbeat_interval - idle, self._beat)

    def _schedule_flush(self) -> None:
        if self._flush_task is None and not self.closed:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while not self.closed:
                if not self._started:
                    await self._send_start()
                if self._buffer:
                    await self._send_buffered()
                    continue
                if self._close_requested:
                    await self._send({"type": "http.response.body", "body": b""})
                    self.completed = True
                    self._mark_closed()
                return
        except _SEND_FAILURES:
            self.abort()
        finally:
            self._flush_task = None

    async def _send_start(self) -> None:
        self._started = True
        headers = end_to_end(self.headers)
        headers["x-trace-id"] = self.trace_id
        start = {"type": "http.response.start", "status": self.status}
        await self._send({**start, "headers": encode_headers(headers)})

    async def _send_buffered(self) -> None:
        chunk = b"".join(self._buffer)
        self._buffer = []
        self._buffered = 0
        self._wake_writers()
        await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _watch_disconnect(self) -> None:
        try:
            while (await self._receive())["type"] != "http.disconnect":
                pass
        except (OSError, RuntimeError):
            pass
        if not self.completed:
            self.abort()

    def _slow_client(self) -> None:
        self._stats.slow_closes += 1
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
        self._buffer = []
        self._buffered = 0
        self._wake_writers()
        if self._closed_waiters is not None:
            self._closed_waiters.wake()
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    def _wake_writers(self) -> None:
        if self._drained is not None:
            self._drained.wake()
