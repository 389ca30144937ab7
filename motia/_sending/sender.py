"""The one bounded-sender mechanism: how every live connection sends without blocking anyone.

Streamed HTTP responses, stream WebSockets, stream SSE subscriptions and the
console's live views each own a ``Sender``: ``put`` never blocks. The first item
put on an idle connection goes out at once, from the caller (a woken handler's
write reaches the socket without waiting for anything else); what follows in the
same loop turn is queued and goes out joined from the ``SendBatch`` (one loop
callback for every connection with something to send, instead of a task wake per
connection); once a send has to
wait for a slow client, the connection's own ``write`` task takes over until
the queue is empty again (a sender without such a task starts a short-lived
one in ``_hand_over``). A producer that must not run ahead of its client waits
for the queue to be handed over (``wait_drained``). The ``SendPolicy`` all of
them share says the rest: a queue over ``max_buffer`` bytes means the client
reads too slowly, and the connection is counted (``Stats.slow_closes``),
logged and ended, never waited on; its session then tells the client why, if
the client takes it within ``FAREWELL_TIMEOUT``, and closes the connection. A send
that waits ``send_timeout`` seconds without any progress means the client stopped
reading: the connection is counted (``Stats.stalled_closes``), logged and reset at
once (``connection.abort_connection``), so that neither the socket nor its buffers
outlive the timeout."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator, MutableSequence
from typing import Any, Generic, TypeVar, cast

import anyio

from motia._core.asgi import Message, Send
from motia._runtime.stats import Stats
from motia._sending.chunk_writer import write_chunk
from motia._sending.connection import abort_connection, close_connection
from motia.settings import Settings

__all__ = [
    "DISCONNECTED",
    "FAREWELL_TIMEOUT",
    "SLOW_CONSUMER",
    "PendingSend",
    "SendBatch",
    "SendPolicy",
    "Sender",
    "Waiters",
    "send_now",
]

log = logging.getLogger("motia.streams")

DISCONNECTED = (OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError)
"""What a send raises once the client is gone (uvicorn's ClientDisconnected is an OSError;
a middleware's memory stream raises anyio's errors)."""

SLOW_CONSUMER = "SLOW_CONSUMER"
"""The ``code`` of the error event that ends an event stream whose client reads too slowly."""
FAREWELL_TIMEOUT = 1.0
"""Seconds a client dropped as too slow gets to take the message saying why, and then
the bytes before the close, before its connection is reset."""


Item = TypeVar("Item", str, bytes)
Result = TypeVar("Result")


class SendBatch:
    """Connections with something to send, flushed together on the next loop turn.

    ``turn`` counts the flushes: a sender that wrote at once notes the turn (without
    joining the batch), and so knows that what it writes before the next flush is to
    join the batch."""

    def __init__(self) -> None:
        self._ready: list[Sender[Any]] = []
        self.turn = 0
        self.armed = False
        self.armed_at = 0.0
        """``time.monotonic()`` when this turn's first write armed the batch: close enough
        to every write of the turn for a heartbeat to count silence from."""

    def add(self, sender: Sender[Any]) -> None:
        if not self.armed:
            self.arm()
        self._ready.append(sender)

    def arm(self) -> None:
        """Flush once this loop turn is over (``turn`` moves on then)."""
        self.armed = True
        self.armed_at = time.monotonic()
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.armed = False
        self.turn += 1
        ready, self._ready = self._ready, []
        for sender in ready:
            if not sender._queue:  # what it had went out meanwhile (``finish``, a release)
                sender._scheduled = False
                continue
            try:
                sender.flush()
            except Exception:  # one connection's failure must not hold up the others
                log.exception("flushing a connection failed")


class Waiters:
    """Tasks waiting for one thing to happen: cheaper than an ``asyncio.Event`` per connection."""

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


class SendPolicy:
    """What every sender of an endpoint shares: the limits, the counters, the batch.

    ``send_timeout``: seconds a send may wait for the client without progress (0: forever).
    """

    def __init__(self, max_buffer: int, stats: Stats, send_timeout: float = 0.0) -> None:
        self.max_buffer = max_buffer
        self.stats = stats
        self.send_timeout = send_timeout
        self.batch = SendBatch()

    @classmethod
    def from_settings(
        cls, settings: Settings, stats: Stats, send_timeout: float | None = None
    ) -> SendPolicy:
        """The app's limits; ``send_timeout`` overrides the app's (a trigger's own)."""
        timeout = settings.send_timeout if send_timeout is None else send_timeout
        return cls(settings.max_stream_buffer, stats, timeout)


class Sender(Generic[Item]):
    """One connection's queued items (WebSocket texts or body bytes), sent in order."""

    __slots__ = (
        "_batch",
        "_drained",
        "_moved_at",
        "_policy",
        "_queue",
        "_scheduled",
        "_send",
        "_stall_check",
        "_stop",
        "_waiter",
        "_waiting",
        "_writing",
        "_wrote_in",
        "broken",
        "closed",
        "farewell",
        "queued",
        "sent",
    )

    describes = "a connection"
    """How the slow-client warning names the connection."""
    transport = "other"
    """How the metrics count the connection (``websocket``, ``sse``)."""
    log = log
    """Where the slow-client warning goes."""
    sends_at_once = True
    """Whether the first item on an idle connection goes out from ``put`` itself; when
    False it waits for the send batch, with whatever else this loop turn adds."""

    def __init__(self, policy: SendPolicy, stop: Callable[[], None], send: Send) -> None:
        self.closed = False
        self.broken = False
        """The connection is gone (the client left, or it was reset): nothing more can go out."""
        self.farewell: str | None = None
        """Why the client is being dropped, for the session to tell it before closing."""
        self.sent = 0
        self.queued = 0
        self._queue: MutableSequence[Item] = self._new_queue()
        self._policy = policy
        self._batch = policy.batch
        self._stop = stop
        self._send = send
        self._scheduled = False
        self._writing = False
        self._waiting: PendingSend[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._drained: Waiters | None = None
        self._stall_check: asyncio.TimerHandle | None = None
        self._moved_at = 0.0
        self._wrote_in = -1
        """The send batch's turn in which a write last went straight out."""

    def _new_queue(self) -> MutableSequence[Item]:
        """A deque, for senders taking items one by one off the front."""
        return deque()

    def _next_message(self) -> Message:
        """Take what goes out next off the queue, as one ASGI message."""
        raise NotImplementedError

    def put(self, item: Item) -> None:
        if self.closed:
            return
        self._queue.append(item)
        self.queued += len(item)
        if self.queued > self._policy.max_buffer:
            self._slow()
        elif not (self._writing or self._scheduled):
            if self.sends_at_once and self._wrote_in != self._batch.turn:
                self._wrote_at_once()  # the batch sends what the rest of this loop turn adds
                self._send_queued()
            else:
                self._schedule()

    def _wrote_at_once(self) -> None:
        """Note that a write goes straight out in this loop turn: until the batch's next
        flush, what follows joins the batch."""
        batch = self._batch
        self._wrote_in = batch.turn
        if not batch.armed:
            batch.arm()

    def _schedule(self) -> None:
        """Have the send batch send the queue on the next loop turn."""
        self._scheduled = True
        self._batch.add(self)

    def hold(self) -> None:
        """Queue without sending until ``release`` (the response has not started yet)."""
        self._scheduled = True

    def release(self) -> None:
        """Send what was queued while held, and everything after it."""
        self._scheduled = False
        if not self.closed:
            self._send_queued()

    def end(self) -> None:
        """Drop the queue and stop the connection's session."""
        if not self.closed:
            self.closed = True
            self._queue.clear()
            self.queued = 0
            self._wake_drained()
            self._stop_stall_check()
            self._stop()

    async def wait_drained(self) -> None:
        """Wait until what is queued now has been handed to ``send`` (or the sender ended)."""
        if self.closed or not self._queue:
            return
        if self._drained is None:
            self._drained = Waiters()
        await self._drained.wait()

    def _wake_drained(self) -> None:
        if self._drained is not None and not self._queue:
            self._drained.wake()

    def _log_extra(self) -> dict[str, str] | None:
        """What the slow-client warning carries besides its message."""
        return None

    def _end_slow(self) -> None:
        self.end()

    def _slow(self) -> None:
        self._policy.stats.slow_closes += 1
        self.log.warning(
            "closing %s whose client reads too slowly: %d bytes waiting (limit %d)",
            self.describes,
            self.queued,
            self._policy.max_buffer,
            extra=self._log_extra(),
        )
        self.farewell = f"the client reads too slowly: over {self._policy.max_buffer} bytes waiting"
        self._end_slow()

    def _stalled(self, waited: float) -> None:
        self._policy.stats.stalled_closes += 1
        self.log.warning(
            "resetting %s whose client stopped reading: a send waited %.1f s (send timeout %g s)",
            self.describes,
            waited,
            self._policy.send_timeout,
            extra=self._log_extra(),
        )
        self.broken = True
        self.end()
        abort_connection(self._send)

    # -- the send timeout: armed while a send waits for the client -----------------------

    def _watch_stall(self) -> None:
        timeout = self._policy.send_timeout
        loop = asyncio.get_running_loop()
        self._moved_at = loop.time()
        if timeout > 0 and self._stall_check is None:
            self._stall_check = loop.call_later(timeout, self._check_stall)

    def _check_stall(self) -> None:
        self._stall_check = None
        if self.closed or not self._writing:
            return
        loop = asyncio.get_running_loop()
        waited = loop.time() - self._moved_at
        timeout = self._policy.send_timeout
        if waited < timeout:
            self._stall_check = loop.call_later(timeout - waited, self._check_stall)
        else:
            self._stalled(waited)

    def _stop_stall_check(self) -> None:
        if self._stall_check is not None:
            self._stall_check.cancel()
            self._stall_check = None

    async def say_farewell(self, message: Message) -> None:
        """Send ``message`` (why the client is dropped) if the client takes it in time, then
        close the connection, resetting it if the client does not read what is left."""
        if self.broken:
            return
        with anyio.move_on_after(FAREWELL_TIMEOUT):
            try:
                await self._send(message)
            except DISCONNECTED:
                return
        close_connection(self._send, FAREWELL_TIMEOUT)

    def flush(self) -> None:
        """Send what is queued, here (the send batch's callback), until a send has to wait."""
        self._scheduled = False
        self._send_queued()

    def _send_queued(self) -> None:
        while self._queue and not self._writing:
            message = self._next_message()
            if self._drained is not None:
                self._wake_drained()
            try:
                waiting = send_now(self._send, message)
            except DISCONNECTED:
                self.broken = True
                self.end()
                return
            self.sent += 1
            if waiting is not None:
                self._hand_over(waiting)

    def _write_joined(self, cycle: Any) -> bool:
        """Write the whole queue as one chunk straight to the server's transport, with the
        server's own framing and without its ``send`` (``chunk_writer``); False when the
        chunk cannot go that way and the queue is left as it was."""
        chunk = b"".join(self._queue)  # type: ignore[arg-type]  # only byte senders call this
        if not (chunk and write_chunk(cycle, chunk)):
            return False
        self._queue.clear()
        self.queued = 0
        self.sent += 1
        self._wake_drained()
        return True

    def _hand_over(self, waiting: PendingSend[None]) -> None:
        self._writing = True
        self._waiting = waiting
        self._watch_stall()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def write(self) -> None:
        """Finishes a send that had to wait, then the queue; runs until cancelled."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._waiting is None:
                    self._waiter = loop.create_future()
                    await self._waiter
                await self._catch_up()
        finally:
            if self._waiting is not None:
                self._waiting.close()

    async def _catch_up(self) -> None:
        """Finish the send that had to wait, then send the queue, in this task."""
        loop = asyncio.get_running_loop()
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            await waiting
            self._moved_at = loop.time()
        while self._queue:
            message = self._next_message()
            if self._drained is not None:
                self._wake_drained()
            await self._send(message)
            self._moved_at = loop.time()
            self.sent += 1
        self._writing = False


def send_now(send: Send, message: Message) -> PendingSend[None] | None:
    """Run ``send(message)`` here; None once it is done, else what is left of it.

    A send that has to wait (the transport is paused) cannot wait inside a loop
    callback: it is stopped at that point for the connection's writer task to
    finish. Errors the send raises before it waits propagate to the caller.
    """
    sending = cast(Coroutine[Any, Any, None], send(message))
    try:
        waiting_on = sending.send(None)
    except StopIteration:
        return None
    return PendingSend(sending, waiting_on)


class PendingSend(Generic[Result]):
    """A send (or a receive) stopped where it had to wait; awaiting this resumes it to the
    end and answers what it returns."""

    def __init__(self, sending: Coroutine[Any, Any, Result], waiting_on: Any) -> None:
        self._sending = sending
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Result]:
        sending, waiting_on = self._sending, self._waiting_on
        while True:
            try:
                value = yield waiting_on  # the awaiting task waits on the send's future
            except GeneratorExit:
                sending.close()
                raise
            except BaseException as exc:  # cancellation included: the send sees it
                try:
                    waiting_on = sending.throw(exc)
                except StopIteration as done:
                    return cast(Result, done.value)
            else:
                try:
                    waiting_on = sending.send(value)
                except StopIteration as done:
                    return cast(Result, done.value)

    def close(self) -> None:
        """Abandon the send (its connection is going away)."""
        self._sending.close()
