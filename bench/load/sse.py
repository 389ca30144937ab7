"""A lean asyncio SSE client: counts frames as they arrive, without parsing each one.

Frames are counted with ``bytes.count`` on each chunk plus the tail of the
previous one, so a frame split across reads is counted once; the body must
carry exactly the expected number of ``event: item`` frames and a ``done``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable

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


class Stream(asyncio.Protocol):
    """One SSE response: counts ``event: item`` frames and notes when each new one arrived."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.items = 0
        self.last_item_at = 0.0
        self.done = False
        self.on_item: Callable[[], None] | None = None
        self.ready = asyncio.get_running_loop().create_future()
        self.head = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self._head = b""
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.status:
            data = self._read_head(data)
            if not data:
                return
        # The tail is one byte short of a whole item frame, so no frame is counted twice.
        window = self._tail + data
        found = window.count(ITEM)
        if found:
            self.items += found
            self.last_item_at = time.monotonic()
            if self.on_item is not None:
                self.on_item()
        self._tail = window[1 - len(ITEM) :]
        if not self.ready.done() and READY in window:
            self.ready.set_result(True)
        if DONE in window:
            self.done = True

    def _read_head(self, data: bytes) -> bytes:
        self._head += data
        head, found, body = self._head.partition(b"\r\n\r\n")
        if not found:
            return b""
        self.status = int(head.split(b" ", 2)[1])
        self.head.set_result(True)
        return body

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.ready.done():
            self.ready.set_result(False)
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
    streams: list[Stream] = []
    for start in range(0, count, batch):
        opened = await asyncio.gather(
            *(open_stream(port, path) for _ in range(min(batch, count - start)))
        )
        streams.extend(opened)
        if not all(await asyncio.gather(*(s.ready for s in opened))):
            raise ConnectionError(f"a stream closed before its ready frame ({len(streams)} open)")
    return streams
