"""A lean asyncio WebSocket client for the stream protocol: join one group, note arrivals.

Just enough of RFC 6455 for the benchmark: the upgrade, masked text frames
out, unmasked frames in (text, ping answered with pong, close).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import time
from collections.abc import Callable

from bench.address import HOST

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
CHANGE = re.compile(rb'"type":"(?:create|update)"')


def upgrade(path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nhost: {HOST}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        f"sec-websocket-key: {key}\r\nsec-websocket-version: 13\r\n\r\n"
    ).encode()


def frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def join(stream: str, group: str, subscription: str) -> bytes:
    data = {"streamName": stream, "groupId": group, "subscriptionId": subscription}
    return frame(TEXT, json.dumps({"type": "join", "data": data}).encode())


class Subscriber(asyncio.Protocol):
    """Joins ``stream``/``group`` once upgraded; ``synced`` resolves on the sync answer."""

    def __init__(self, stream: str, group: str, name: str) -> None:
        loop = asyncio.get_running_loop()
        self.join_frame = join(stream, group, name)
        self.transport: asyncio.Transport | None = None
        self.synced = loop.create_future()
        self.closed = loop.create_future()
        self.changes: list[float] = []
        self.on_change: Callable[[], None] | None = None
        self._upgraded = False
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(upgrade("/streams"))  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            data, self._buffer = self._buffer + data, b""
        if not self._upgraded:
            data = self._read_upgrade(data)
        offset, end = 0, len(data)
        while offset < end:
            frame = _frame_at(data, offset)
            if frame is None:
                self._buffer = data[offset:]
                return
            opcode, start, offset = frame
            self._on_frame(opcode, data[start:offset])

    def _read_upgrade(self, data: bytes) -> bytes:
        """What follows the upgrade response, once it is whole; keeps a partial one."""
        head, found, rest = data.partition(b"\r\n\r\n")
        if not found:
            self._buffer = data
            return b""
        if b" 101 " not in head.split(b"\r\n", 1)[0] + b" ":
            raise ConnectionError(f"upgrade refused: {head[:200]!r}")
        self._upgraded = True
        assert self.transport is not None
        self.transport.write(self.join_frame)
        return rest

    def _on_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if opcode == PING:
            self.transport.write(frame(PONG, payload))
        elif opcode == CLOSE:
            self.transport.close()
        elif opcode == TEXT:
            self._on_text(payload)

    def _on_text(self, payload: bytes) -> None:
        if CHANGE.search(payload):
            self.changes.append(time.monotonic())
            if self.on_change is not None:
                self.on_change()
        elif not self.synced.done() and b'"type":"sync"' in payload:
            self.synced.set_result(True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.synced.done():
            self.synced.set_result(False)


async def subscribe_many(
    port: int, stream: str, group: str, count: int, *, batch: int = 250
) -> list[Subscriber]:
    loop = asyncio.get_running_loop()
    subscribers: list[Subscriber] = []
    for start in range(0, count, batch):
        names = [f"s{start + i}" for i in range(min(batch, count - start))]
        made = await asyncio.gather(
            *(
                loop.create_connection(lambda n=n: Subscriber(stream, group, n), HOST, port)
                for n in names
            )
        )
        opened = [protocol for _, protocol in made]
        subscribers.extend(opened)
        if not all(await asyncio.gather(*(s.synced for s in opened))):
            raise ConnectionError(f"a subscriber closed before its sync ({len(subscribers)})")
    return subscribers


def _frame_at(data: bytes, offset: int) -> tuple[int, int, int] | None:
    """(opcode, payload start, payload end) of the unmasked frame at ``offset``, if whole."""
    if len(data) < offset + 2:
        return None
    opcode, size, start = data[offset] & 0x0F, data[offset + 1] & 0x7F, offset + 2
    if size == 126:
        if len(data) < offset + 4:
            return None
        size, start = struct.unpack_from("!H", data, offset + 2)[0], offset + 4
    elif size == 127:
        if len(data) < offset + 10:
            return None
        size, start = struct.unpack_from("!Q", data, offset + 2)[0], offset + 10
    if len(data) < start + size:
        return None
    return opcode, start, start + size
