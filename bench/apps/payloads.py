"""What every app puts on the wire, defined once so each peer sends the same bytes."""

from __future__ import annotations

import asyncio
import json

from pydantic import BaseModel

HELLO = {"message": "Hello, World!"}
HELLO_BYTES = json.dumps(HELLO, separators=(",", ":")).encode()

# Every app sends a trace id header of the runtime's length (32 hex digits).
TRACE_HEADER = (b"x-trace-id", b"0" * 32)

FRAME_SIZE = 100
"""Bytes in one ``event: item`` frame."""

HEARTBEAT = 15.0
"""Seconds between ``: ping`` frames on an idle stream, for every app."""


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]


ECHO_BODY = json.dumps(
    {"name": "widget", "price": 9.5, "tags": ["a", "b", "c"]}, separators=(",", ":")
).encode()


def item_data() -> str:
    """The ``data:`` text that makes an ``event: item`` frame exactly ``FRAME_SIZE`` bytes."""
    overhead = len(b"event: item\ndata: \n\n")
    return "x" * (FRAME_SIZE - overhead)


ITEM_DATA = item_data()
ITEM_FRAME = f"event: item\ndata: {ITEM_DATA}\n\n".encode()
READY_FRAME = b"event: ready\ndata: 1\n\n"
DONE_FRAME = b"event: done\ndata: 1\n\n"
PING_FRAME = b": ping\n\n"

WAITING: set[asyncio.Queue[bytes]] = set()
"""One queue per open ``/wait`` stream (the peers' shape: each handler awaits its own);
``POST /wake`` puts one item frame in each."""


def wake_all() -> int:
    for waiting in WAITING:
        waiting.put_nowait(ITEM_FRAME)
    return len(WAITING)
