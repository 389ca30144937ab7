"""The wire half of a response: headers as they go out, and a streamed body's bytes from
the handler to the ASGI ``send``.

A streamed body goes out through the app's one bounded sender (``_sending``): a
write never blocks, writes that pile up go out joined, and an idle stream costs
no task but the disconnect watcher (none when the request's own task watches:
``handler_task``). Event streams get a ``: ping`` after each
heartbeat interval of silence. Policy when a client reads too slowly: once
more than ``max_buffer`` bytes wait to be sent, the stream is closed as a slow
consumer, logged and counted, and ``on_abort`` cancels the handler as if the
client had left; an event stream then ends with ``event: error`` (code
``SLOW_CONSUMER``) if the client still takes it. A client that stops reading
altogether is given up on after the send timeout: the handler is cancelled the
same way and the connection reset at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from motia._core.asgi import Message, Receive, Send
from motia._sending.chunk_writer import chunk_cycle, write_chunk
from motia._sending.connection import abort_connection
from motia._sending.sender import (
    DISCONNECTED,
    SLOW_CONSUMER,
    PendingSend,
    Sender,
    SendPolicy,
    Waiters,
)
from motia.sse import PING, encode_event

__all__ = ["HIGH_WATER", "BodyStream", "encode_headers", "end_to_end"]

HIGH_WATER = 64 * 1024
"""Buffered bytes past which ``send()`` waits for the client."""


_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
     "upgrade"}
)  # fmt: skip


def end_to_end(headers: dict[str, str]) -> dict[str, str]:
    """The headers without hop-by-hop ones, which only the server may set."""
    return {name: value for name, value in headers.items() if name not in _HOP_BY_HOP}


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def _no_stop() -> None:
    """A body stream ends itself: it overrides ``Sender.end``."""


class BodyStream(Sender[bytes]):
    """A streamed body on the bounded sender: the start message, the body bytes joined, the end.

    It has no task of its own but the disconnect watcher (unless ``on_watch`` watches):
    a send that has to wait for the client is finished by a short-lived writer task
    (``_hand_over``).
    """

    __slots__ = (
        "_closed_waiters", "_cycle", "_heartbeat", "_heartbeat_interval", "_lane", "_last_write",
        "_receive", "_watcher", "_writer", "body_written", "completed", "ending",
        "headers", "on_abort", "on_watch", "started", "status", "trace_id", "watching",
    )  # fmt: skip

    describes = "a stream"
    log = logging.getLogger("motia.http")

    def __init__(
        self,
        send: Send,
        receive: Receive,
        trace_id: str,
        *,
        heartbeat_interval: float,
        policy: SendPolicy,
    ) -> None:
        super().__init__(policy, _no_stop, send)
        self._receive = receive
        self.trace_id = trace_id
        self._heartbeat_interval = heartbeat_interval
        self.status = 200
        self.headers: dict[str, str] = {}
        self.on_abort: Callable[[], None] | None = None
        self.on_watch: Callable[[], None] | None = None
        """Who watches the client once the response streams: None, a task of this body's."""
        self.watching = False
        self.body_written = False
        self.started = False
        self.ending = False
        """The body ends after what is queued (``request_close``)."""
        self.completed = False
        """The last body message is on its way: the response is whole, a disconnect changes
        nothing any more."""
        self._writer: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.TimerHandle | None = None
        self._closed_waiters: Waiters | None = None
        self._last_write = 0.0
        self._cycle = chunk_cycle(send)
        self._lane: Any = None
        """The server's request cycle once a write went straight to it (``chunk_writer``),
        until the body ends: what stays true of the response after that is not checked again."""

    # -- fed by the response ------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return self.queued

    @property
    def closing(self) -> bool:
        """The body is ending or ended: nothing more can be written."""
        return self.closed or self.ending

    def watch(self) -> None:
        """Start noticing the client leaving (once: the response is streaming from now on),
        in a watcher task, or by asking ``on_watch`` to run ``watch_client`` instead."""
        if not (self.watching or self.closed):
            self.watching = True
            self._policy.stats.open_streams += 1
            if self.on_watch is not None:
                self.on_watch()
            else:
                self._watcher = asyncio.get_running_loop().create_task(self.watch_client())

    def write_body(self, data: bytes | str) -> None:
        if type(data) is bytes and data:
            self.write_frame(data)
        else:
            self._write_checked(data)

    def write_frame(self, chunk: bytes) -> None:
        """``write_body`` for bytes that are not empty, such as an encoded SSE frame.

        The usual write of a woken stream takes as few steps as it can: on the lane, the
        end of ``write_chunk`` (connection paused or gone?) and the write, inline."""
        lane, batch = self._lane, self._batch
        if (
            lane is not None
            and self._wrote_in != batch.turn
            and not (self._queue or self._writing or self._scheduled)
            and len(chunk) <= self._policy.max_buffer
            and not (lane.disconnected or lane.flow.write_paused)
        ):
            lane.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            self.sent += 1
            self._wrote_in = batch.turn  # ``_wrote_at_once``, without a call on this path
            if not batch.armed:
                batch.arm()
            self._last_write = batch.armed_at
            return
        self._write_checked(chunk)

    def _write_checked(self, data: bytes | str) -> None:
        """A write that takes every check: the lane is not open, or this write cannot use it."""
        if self.closed or self.ending:
            self._policy.stats.dropped_writes += 1
            return
        if type(data) is bytes:
            chunk = data
        else:
            chunk = data.encode() if isinstance(data, str) else bytes(data)
        if not chunk:
            return
        if not self.body_written:
            self._first_body_byte()
        self._last_write = time.monotonic()
        if not (self._queue or self._writing or self._scheduled) and self._write_at_once(chunk):
            return
        self.put(chunk)

    def _write_at_once(self, chunk: bytes) -> bool:
        """An idle stream's write, straight to the server's transport (``chunk_writer``);
        the send batch joins whatever else this loop turn writes, as after ``put``."""
        cycle = self._cycle
        if (
            cycle is None
            or not self.started
            or self._wrote_in == self._batch.turn
            or len(chunk) > self._policy.max_buffer  # ``put`` ends the stream as too slow
            or not write_chunk(cycle, chunk)
        ):
            return False
        self._lane = cycle
        self.sent += 1
        self._wrote_at_once()
        return True

    def is_event_stream(self) -> bool:
        return self.headers.get("content-type", "").startswith("text/event-stream")

    def declare_event_stream(self) -> None:
        """The handler declared ``text/event-stream``: the head goes out on the next loop turn
        (with whatever status and headers are set by then), so the client opens at once,
        and pings start, even before the first write."""
        self._event_stream_headers()
        self.start_heartbeat()
        if not (self.started or self._queue or self.closing):
            self._queue.append(b"")  # only the head: ``_next_message`` sends nothing after it
            if not (self._writing or self._scheduled):
                self._schedule()  # on the next turn: headers set in the same breath go too

    def start_heartbeat(self) -> None:
        """Pings start once the handler declares an event stream, even before it writes."""
        if self._heartbeat is None and self._heartbeat_interval > 0:
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(self._heartbeat_interval, self._beat)

    def request_close(self) -> None:
        if not self.closing:
            self.ending = True
            self._lane = None
            self.put(b"")  # the end goes out through the queue, after everything before it

    async def wait_closed(self) -> None:
        if not self.closed:
            if self._closed_waiters is None:
                self._closed_waiters = Waiters()
            await self._closed_waiters.wait()

    # -- ending -------------------------------------------------------------------------

    async def finish(self) -> None:
        """Deliver what is buffered and end the body; a client given up on is told why
        (an event stream's ``error`` event, if it still reads) and its connection closed."""
        if self.farewell is not None or self.broken:
            await self._drop_client()
        else:
            self.request_close()
            self.flush()  # now, not on the next loop turn: the response ends when this returns
            writer = self._writer
            if writer is not None:
                await asyncio.shield(writer)
        self.release()

    async def _drop_client(self) -> None:
        writer = self._writer
        if writer is not None:
            writer.cancel()  # it waits on the client: the send timeout or the slow limit hit
            await asyncio.wait([writer])
        if self.broken or self.completed:
            return
        if self.farewell is not None and self.started and self.is_event_stream():
            error = {"code": SLOW_CONSUMER, "message": self.farewell, "trace_id": self.trace_id}
            frame = encode_event(error, event="error")
            await self.say_farewell({"type": "http.response.body", "body": frame})
        else:
            abort_connection(self._send)

    def end(self) -> None:
        """The sender gives up (the client is gone or reads too slowly), unless the body ended."""
        if not self.closed:
            self.abort()

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
        if self.watching:
            self.watching = False
            self._policy.stats.open_streams -= 1

    # -- the sender's side --------------------------------------------------------------

    def _new_queue(self) -> list[bytes]:
        return []  # taken whole each time; a list costs a tenth of a deque per idle stream

    def _next_message(self) -> Message:
        if not self.started:
            self.started = True
            if not (self.queued or self.ending):
                self._queue.clear()  # the head was sent for its own sake: nothing follows yet
            return self._start_message()
        chunk = b"".join(self._queue)
        self._queue.clear()
        self.queued = 0
        if self.ending:
            self.completed = True
            return {"type": "http.response.body", "body": chunk}
        return {"type": "http.response.body", "body": chunk, "more_body": True}

    def _log_extra(self) -> dict[str, str]:
        return {"trace_id": self.trace_id}

    def _send_queued(self) -> None:
        if not self._queue:
            return  # nothing to send (a finish or release with nothing queued)
        cycle = self._cycle
        ready = cycle is not None and self.started and not (self._writing or self.ending)
        if ready and self._write_joined(cycle):
            return
        super()._send_queued()
        if self.completed and not self._writing:
            self._mark_closed()

    def _hand_over(self, waiting: PendingSend[None]) -> None:
        super()._hand_over(waiting)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_behind())

    async def _write_behind(self) -> None:
        try:
            await self._catch_up()
        except DISCONNECTED:
            self.broken = True
            self.end()
        finally:
            self._writer = None
            if self._waiting is not None:
                self._waiting.close()
                self._waiting = None
        if self.completed:
            self._mark_closed()

    # -- internals ----------------------------------------------------------------------

    def _start_message(self) -> Message:
        headers = end_to_end(self.headers)
        headers["x-trace-id"] = self.trace_id
        start = {"type": "http.response.start", "status": self.status}
        return {**start, "headers": encode_headers(headers)}

    def _first_body_byte(self) -> None:
        self.watch()
        self.body_written = True
        if self.is_event_stream():
            self._event_stream_headers()
            self.start_heartbeat()

    def _event_stream_headers(self) -> None:
        self.headers.setdefault("cache-control", "no-cache")
        self.headers.setdefault("x-accel-buffering", "no")

    def _beat(self) -> None:
        if self.closing:
            return
        idle = time.monotonic() - self._last_write
        if idle >= self._heartbeat_interval * 0.98:
            self.write_body(PING)
            idle = 0.0
        loop = asyncio.get_running_loop()
        self._heartbeat = loop.call_later(self._heartbeat_interval - idle, self._beat)

    async def watch_client(self) -> None:
        """Return once the client is gone, the response given up (the handler cancelled)."""
        try:
            while (await self._receive())["type"] != "http.disconnect":
                pass
        except DISCONNECTED:
            pass
        if not self.completed:
            self.abort()

    def _mark_closed(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._lane = None
        self._queue.clear()
        self.queued = 0
        self._wake_drained()
        self._stop_stall_check()
        if self._closed_waiters is not None:
            self._closed_waiters.wake()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
