"""Sending to many connections from one loop callback instead of one task wake each.

A broadcast makes many sockets ready at once. Waking each socket's writer task
costs a task step per socket; instead ``SendBatch`` collects the ready ones and
flushes them all in a single ``call_soon`` callback, running each ASGI ``send``
right there. A send that has to wait (the transport is paused because the
client reads slowly) cannot wait inside a callback: ``send_now`` stops it at
that point and returns the rest as an awaitable for the connection's own
writer task to finish.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, Protocol

from starlette.types import Message, Send

__all__ = ["Flushable", "SendBatch", "send_now"]


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
            connection.flush()


def send_now(send: Send, message: Message) -> Awaitable[None] | None:
    """Run ``send(message)`` here; None once it is done, else what finishes it.

    Errors the send raises before it waits propagate to the caller.
    """
    sending = send(message)
    assert isinstance(sending, Coroutine)
    try:
        waiting_on = sending.send(None)
    except StopIteration:
        return None
    return _finish(sending, waiting_on)


@types.coroutine
def _finish(sending: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """Hand the future ``sending`` waits on to the awaiting task, then resume it."""
    while True:
        try:
            value = yield waiting_on
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
