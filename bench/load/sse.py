"""A lean asyncio SSE client: counts frames as they arrive, without parsing each one.

Frames are counted with ``bytes.count`` on each chunk plus the tail of the
previous one, so a frame split across reads is counted once (``count_across``); the
body must carry exactly the expected number of ``event: item`` frames and a ``done``.
``Response`` is what every reader here shares: the request written on connect, the
status read off the head, the body handed on chunk by chunk.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from bench.address import HOST

ITEM = b"event: item\n"
READY = b"ready\n"
DONE = b"done\n"
_LINGER_RESET = struct.pack("ii", 1, 0)


def get(path: str, *, keep_alive: bool = False) -> bytes:
    connection = "keep-alive" if keep_alive else "close"
    return (
        f"GET {path} HTTP/1.1\r\nhost: {HOST}\r\naccept: text/event-stream\r\n"
        f"connection: {connection}\r\n\r\n"
    ).encode()


def count_across(tail: bytes, data: bytes, marker: bytes) -> tuple[int, bytes, bytes]:
    """How often ``marker`` occurs in ``tail + data``, that window, and the next tail: one
    byte short of a whole marker, so no marker is counted twice."""
    window = tail + data
    return window.count(marker), window, window[1 - len(marker) :]


class Response(asyncio.Protocol):
    """A response to ``request`` (written on connect): ``status`` from the head, then
    ``on_body`` for every chunk of the body; ``ready`` resolves False if it closes early."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.ready = asyncio.get_running_loop().create_future()
        self._head = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self.status:
            data = self._read_head(data)
            if not data:
                return
        self.on_body(data)

    def on_head(self) -> None:
        """The head is in (``status`` is set)."""

    def on_body(self, data: bytes) -> None:
        raise NotImplementedError

    def _read_head(self, data: bytes) -> bytes:
        self._head += data
        head, found, body = self._head.partition(b"\r\n\r\n")
        if not found:
            return b""
        self.status = int(head.split(b" ", 2)[1])
        self.on_head()
        return body

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(False)


class Stream(Response):
    """One SSE response: counts ``event: item`` frames and notes when each new one arrived."""

    def __init__(self, request: bytes) -> None:
        super().__init__(request)
        self.items = 0
        self.last_item_at = 0.0
        self.done = False
        self.on_item: Callable[[], None] | None = None
        self.head = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self._tail = b""

    def on_head(self) -> None:
        self.head.set_result(True)

    def on_body(self, data: bytes) -> None:
        found, window, self._tail = count_across(self._tail, data, ITEM)
        if found:
            self.items += found
            self.last_item_at = time.monotonic()
            if self.on_item is not None:
                self.on_item()
        if not self.ready.done() and READY in window:
            self.ready.set_result(True)
        if DONE in window:
            self.done = True

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        super().connection_lost(exc)
        if not self.head.done():
            self.head.set_result(False)

    def reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST, as a crashed or killed client does."""
        assert self.transport is not None
        sock = self.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.transport.abort()


async def open_stream(port: int, path: str) -> Stream:
    loop = asyncio.get_running_loop()
    _, stream = await loop.create_connection(lambda: Stream(get(path)), HOST, port)
    return stream


async def open_many(port: int, path: str, count: int, *, batch: int = 250) -> list[Stream]:
    """``count`` streams, opened ``batch`` at a time, each past its ``ready`` frame."""
    return await open_batches(lambda: Stream(get(path)), port, count, batch=batch)


class _Readying(Protocol):
    ready: asyncio.Future[bool]


R = TypeVar("R", bound=_Readying)


async def open_batches(make: Callable[[], R], port: int, count: int, *, batch: int) -> list[R]:
    """``count`` connections of ``make``'s protocol, opened ``batch`` at a time, each ready."""
    loop = asyncio.get_running_loop()
    opened: list[R] = []
    for start in range(0, count, batch):
        connected = await asyncio.gather(
            *(
                loop.create_connection(make, HOST, port)  # type: ignore[type-var]
                for _ in range(min(batch, count - start))
            )
        )
        group = [protocol for _, protocol in connected]
        opened.extend(group)
        if not all(await asyncio.gather(*(p.ready for p in group))):
            raise ConnectionError(f"a stream closed before it was ready ({len(opened)} open)")
    return opened
