"""A streamed body on the bounded sender: a send that has to wait, and waiting for the queue."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from motia._http.response_stream import BodyStream
from motia._runtime.stats import Stats
from motia._sending.sender import SendPolicy

pytestmark = pytest.mark.anyio


class GatedSend:
    """An ASGI ``send`` whose first body message waits until ``gate`` opens (a paused transport)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.gate = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if message.get("body") and not self.gate.is_set() and len(self.messages) == 1:
            await self.gate.wait()
        self.messages.append(message)


async def never_disconnects() -> Any:
    await asyncio.Event().wait()


def body_stream(send: GatedSend, stats: Stats) -> BodyStream:
    policy = SendPolicy(1 << 20, stats)
    return BodyStream(send, never_disconnects, "t1", heartbeat_interval=0, policy=policy)


async def test_a_send_that_waits_is_finished_in_order_and_queued_bytes_go_out_joined() -> None:
    send, stats = GatedSend(), Stats()
    body = body_stream(send, stats)
    with anyio.fail_after(5):
        body.write_body(b"a")
        await asyncio.sleep(0.01)  # the batch sent the start; the body send waits at the gate
        body.write_body(b"b")
        body.write_body(b"c")
        assert body.buffered == 2
        drained = asyncio.ensure_future(body.wait_drained())
        await asyncio.sleep(0.01)
        assert not drained.done()
        send.gate.set()
        await drained
        await body.finish()
    types = [m["type"] for m in send.messages]
    assert types == ["http.response.start"] + ["http.response.body"] * 3
    assert [m.get("body") for m in send.messages[1:]] == [b"a", b"bc", b""]
    assert [m.get("more_body", False) for m in send.messages[1:]] == [True, True, False]
    assert body.closed and body.completed and stats.open_streams == 0


async def test_close_without_writing_sends_the_start_and_an_empty_end() -> None:
    send = GatedSend()
    send.gate.set()
    body = body_stream(send, Stats())
    with anyio.fail_after(5):
        body.request_close()
        await body.wait_closed()
    assert send.messages[0]["type"] == "http.response.start"
    assert send.messages[1:] == [{"type": "http.response.body", "body": b""}]
