"""An open-loop order generator: POSTs at a fixed rate over a pool of keep-alive connections.

Each order is sent at its scheduled time whether or not earlier ones were answered; a
connection carries one request at a time, and an order finding none free waits in a
backlog (its latency still counts from the schedule). Answers are read with a lean
HTTP/1.1 parser: status line and ``content-length``, nothing else.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Sequence

from bench.address import HOST


def order_request(order_id: str, qty: int = 1) -> bytes:
    body = json.dumps({"id": order_id, "item": "widget", "qty": qty}, separators=(",", ":"))
    return (
        f"POST /orders HTTP/1.1\r\nhost: {HOST}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n{body}"
    ).encode()


def split_answers(buffer: bytes) -> tuple[list[int], bytes]:
    """The statuses of the complete responses at the start of ``buffer``, and the rest."""
    statuses = []
    while (head_end := buffer.find(b"\r\n\r\n")) >= 0:
        end = head_end + 4 + _content_length(buffer[:head_end])
        if len(buffer) < end:
            break
        statuses.append(int(buffer[9:12]))
        buffer = buffer[end:]
    return statuses, buffer


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class Connection(asyncio.Protocol):
    """One keep-alive connection of the pool, one request in flight at most."""

    def __init__(self, pool: OrderSender) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def post(self, request: bytes) -> None:
        assert self.transport is not None
        self.busy = True
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        statuses, self._buffer = split_answers(self._buffer + data)
        for status in statuses:
            self.busy = False
            self.pool.answered(self, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.lost(self)


class OrderSender:
    """The pool: counts answers by status; a connection the server closed is replaced."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self.idle: collections.deque[Connection] = collections.deque()
        self.backlog: collections.deque[bytes] = collections.deque()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.replacing: set[asyncio.Task[None]] = set()
        self.closing = False

    async def open(self) -> None:
        await asyncio.gather(*(self._connect() for _ in range(self.size)))

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(lambda: Connection(self), HOST, self.port)
        self._free(connection)

    def send(self, request: bytes) -> None:
        if self.idle:
            self.idle.popleft().post(request)
        else:
            self.backlog.append(request)

    def answered(self, connection: Connection, status: int) -> None:
        self.statuses[status] += 1
        self._free(connection)

    def _free(self, connection: Connection) -> None:
        if self.backlog:
            connection.post(self.backlog.popleft())
        else:
            self.idle.append(connection)

    def lost(self, connection: Connection) -> None:
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.busy:
            self.statuses[0] += 1  # sent, never answered
        if not self.closing:
            task = asyncio.get_running_loop().create_task(self._connect())
            self.replacing.add(task)
            task.add_done_callback(self.replacing.discard)

    def answers(self) -> int:
        return sum(self.statuses.values())

    def close(self) -> None:
        self.closing = True
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()


async def offer(sender: OrderSender, requests: Sequence[bytes], rate: float) -> list[float]:
    """Send ``requests`` at ``rate`` per second from now; returns each one's scheduled time."""
    start = time.monotonic()
    due = [start + i / rate for i in range(len(requests))]
    sent = 0
    while sent < len(requests):
        now = time.monotonic()
        while sent < len(requests) and due[sent] <= now:
            sender.send(requests[sent])
            sent += 1
        if sent < len(requests):
            await asyncio.sleep(max(0.0, due[sent] - time.monotonic()))
    return due
