"""Sending to many connections from one loop callback instead of one task wake each.

A broadcast makes many sockets ready at once. Waking each socket's writer task
costs a task step per socket; instead ``SendBatch`` collects the ready ones and
flushes them all in a single ``call_soon`` callback, running each ASGI ``send``
right there. A send that has to wait (the transport is paused because the
client reads slowly) cannot wait inside a callback: ``send_now`` stops it at
that point and returns the rest as a ``PendingSend`` for the connection's own
writer task to await.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Generator
from typing import Any, Protocol, cast

from starlette.types import Message, Send

__all__ = ["Flushable", "PendingSend", "SendBatch", "send_now"]

log = logging.getLogger("motia.streams")


class Flushable(Protocol):
    def flush(self) -> None: ...


class SendBatch:
    """Connections with something to send, flushed together on the next loop turn."""

    def __init__(self) -> None:
        self._ready: list[Flushable] = []

    def add(self, connection: Flushable) -> None:
        if not self._ready:
            asyncio.get_running_loop().call_soon(self._flush)
        self._ready.append(connection)

    def _flush(self) -> None:
        ready, self._ready = self._ready, []
        for connection in ready:
            try:
                connection.flush()
            except Exception:  # one connection's failure must not hold up the others
                log.exception("flushing a connection failed")


def send_now(send: Send, message: Message) -> PendingSend | None:
    """Run ``send(message)`` here; None once it is done, else what is left of it.

    Errors the send raises before it waits propagate to the caller.
    """
    sending = cast(Coroutine[Any, Any, None], send(message))
    try:
        waiting_on = sending.send(None)
    except StopIteration:
        return None
    return PendingSend(sending, waiting_on)


class PendingSend:
    """A send stopped where it had to wait; awaiting this resumes it to the end."""

    def __init__(self, sending: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._sending = sending
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
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
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = sending.send(value)
                except StopIteration:
                    return

    def close(self) -> None:
        """Abandon the send (its connection is going away)."""
        self._sending.close()
