"""The fan-out hub: shared encoding, clocks, replay buffer and topic lifetime."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import pytest

from motia import StreamConfig
from motia._realtime.sse_subscriptions import sse_frame
from motia._realtime.websocket import SocketSink, ws_frame
from motia._runtime.hub import Hub, Message, ReplayLimits
from motia._runtime.streams import Streams
from motia._sending.sender import SendPolicy
from motia.backends.memory import MemoryStore

pytestmark = pytest.mark.anyio


class ListSink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def push(self, message: Message) -> None:
        self.messages.append(message)

    def shutdown(self) -> None:
        pass


async def make_hub(**kwargs: Any) -> tuple[Hub, Any]:
    store = MemoryStore()
    streams = Streams.from_configs([StreamConfig("todo")], store)
    hub = Hub(store, streams, **kwargs)
    hub.start()
    return hub, streams.todo


async def test_each_change_is_encoded_once_and_shared() -> None:
    hub, todo = await make_hub()
    first, second = ListSink(), ListSink()
    await hub.join(first, "todo", "g", None)
    await hub.join(second, "todo", "g", None)
    await todo.set("g", "a", {"n": 1})
    assert first.messages[-1] is second.messages[-1]
    message = first.messages[-1]
    assert json.loads(message.text)["event"] == {"type": "create", "data": {"id": "a", "n": 1}}
    assert (
        message.encoded(sse_frame)
        == f"event: create\nid: {message.event_id}\ndata: {message.text}\n\n".encode()
    )


async def test_a_message_is_encoded_once_per_wire_format_for_every_subscriber() -> None:
    hub, todo = await make_hub()
    calls: list[Message] = []

    def counting(message: Message) -> bytes:
        calls.append(message)
        return b"wire"

    class EncodingSink(ListSink):
        def __init__(self) -> None:
            super().__init__()
            self.frames: list[bytes] = []

        def push(self, message: Message) -> None:
            super().push(message)
            self.frames += [message.encoded(counting), message.encoded(ws_frame)]

    sinks = [EncodingSink() for _ in range(50)]
    for sink in sinks:
        await hub.join(sink, "todo", "g", None)
    calls.clear()
    await todo.set("g", "a", {"n": 1})
    assert {sink.frames[-2] for sink in sinks} == {b"wire"} and len(calls) == 1
    assert sinks[0].frames[-1] is sinks[1].frames[-1]


async def test_a_replayed_message_keeps_one_copy_of_its_text() -> None:
    hub, todo = await make_hub()
    member = await hub.join(ListSink(), "todo", "g", None)
    await todo.set("g", "a", {"n": 1})
    hub.leave(member)
    (kept,) = hub.topics[("stream:todo", "g")].replay.after(-1)
    assert kept._encodings is None and not hasattr(kept, "tail")


async def test_item_members_and_group_members_filter() -> None:
    hub, todo = await make_hub()
    group, item = ListSink(), ListSink()
    await hub.join(group, "todo", "g", None)
    await hub.join(item, "todo", "g", "a")
    await todo.set("g", "b", {})
    await todo.send({"groupId": "g", "id": "a"}, {"type": "for-a", "data": 1})
    await todo.send({"groupId": "g"}, {"type": "all", "data": 2})
    assert [m.kind for m in group.messages] == ["sync", "create", "event"]
    assert [m.kind for m in item.messages] == ["sync", "event"]
    assert item.messages[1].item_id == "a"


class RecordingSend:
    """An ASGI send that records texts; one of them can be made to wait."""

    def __init__(self, *, hold: str | None = None, fail: bool = False) -> None:
        self.texts: list[str] = []
        self.hold = hold
        self.fail = fail
        self.release = asyncio.Event()
        self.cancelled = False

    async def __call__(self, message: dict[str, Any]) -> None:
        if self.fail:
            raise OSError("connection reset")
        if message["text"] == self.hold:
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        self.texts.append(message["text"])


async def next_turn() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def update(timestamp: int, item_id: str, position: int) -> Message:
    text = f'{{"timestamp":{timestamp},"id":"{item_id}","event":{{}}}}'
    return Message(timestamp, "update", item_id, position, "e", text)


async def test_socket_sink_restamps_only_when_needed() -> None:
    hub, _ = await make_hub()
    send = RecordingSend()
    sink = SocketSink(SendPolicy(1 << 20, hub.stats), lambda: None, send)
    shared = update(1000, "a", 1)
    sink.push(shared)
    sink.push(shared)
    sink.push(update(1000, "b", 2))
    sink.push(update(5000, "c", 3))
    await next_turn()
    assert send.texts[0] is shared.text
    sent = [json.loads(text) for text in send.texts]
    assert [(m["timestamp"], m["id"]) for m in sent] == [(1000, "a"), (1001, "b"), (5000, "c")]


async def test_socket_sink_closes_when_its_buffer_is_full() -> None:
    hub, _ = await make_hub()
    stopped: list[bool] = []
    sink = SocketSink(SendPolicy(100, hub.stats), lambda: stopped.append(True), RecordingSend())
    for index in range(5):
        text = f'{{"timestamp":{index + 1},"x":"' + "y" * 30 + '"}'
        sink.push(Message(index + 1, "update", "a", index, "e", text))
    assert sink.close_code == 1008 and stopped == [True] and hub.stats.slow_closes == 1


def message(n: int) -> Message:
    """Update number ``n`` of item ``a``, stamped ``n``."""
    return Message(n, "update", "a", n, "e", f'{{"timestamp":{n}}}')


def texts(*numbers: int) -> list[str]:
    return [message(n).text for n in numbers]


async def test_a_send_that_waits_moves_to_the_writer_in_order() -> None:
    hub, _ = await make_hub()
    send = RecordingSend(hold=texts(2)[0])
    sink = SocketSink(SendPolicy(1 << 20, hub.stats), lambda: None, send)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(sink.write)
        for number in (1, 2, 3):
            sink.push(message(number))
        await next_turn()
        assert send.texts == texts(1)
        sink.push(message(4))
        await next_turn()
        assert send.texts == texts(1)
        send.release.set()
        await next_turn()
        assert send.texts == texts(1, 2, 3, 4)
        sink.push(message(5))
        await next_turn()
        assert send.texts == texts(1, 2, 3, 4, 5)
        tasks.cancel_scope.cancel()


async def test_a_send_that_waits_is_finished_only_once() -> None:
    hub, _ = await make_hub()
    send = RecordingSend(hold=texts(1)[0])
    sink = SocketSink(SendPolicy(1 << 20, hub.stats), lambda: None, send)
    sink.push(message(1))
    await next_turn()
    send.release.set()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(sink.write)
        await next_turn()
        assert send.texts == texts(1)
        tasks.cancel_scope.cancel()


class Transport:
    """Takes frames while ``open``; otherwise its buffer holds something."""

    def __init__(self) -> None:
        self.open = True
        self.frames: list[bytes] = []

    def get_write_buffer_size(self) -> int:
        return 0 if self.open else 1

    def is_closing(self) -> bool:
        return False

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)


async def test_frames_go_direct_only_when_nothing_waits_before_them() -> None:
    hub, _ = await make_hub()
    send, writer = RecordingSend(), Transport()
    sink = SocketSink(SendPolicy(1 << 20, hub.stats), lambda: None, send, writer)  # type: ignore[arg-type]
    messages = [message(n) for n in range(1, 6)]
    sink.push(messages[0])
    writer.open = False
    sink.push(messages[1])  # declined by the writer: the ASGI send takes it at once
    writer.open = True
    send.texts.append("then")
    sink.push(messages[2])  # nothing waits before it: straight to the transport again
    await next_turn()
    sink.push(messages[3])
    sink.push_own({"type": "own"})
    wire = [frame[2:].decode() for frame in writer.frames]
    assert wire[0] == messages[0].text and send.texts == [*texts(2), "then"]
    assert wire[1:3] == [messages[2].text, messages[3].text]
    assert json.loads(wire[3])["type"] == "own"
    assert writer.frames[0] is messages[0].encoded(ws_frame)


async def test_cancelling_the_writer_cancels_the_send_it_finishes() -> None:
    hub, _ = await make_hub()
    send = RecordingSend(hold=texts(1)[0])
    sink = SocketSink(SendPolicy(1 << 20, hub.stats), lambda: None, send)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(sink.write)
        sink.push(message(1))
        await next_turn()
        tasks.cancel_scope.cancel()
    assert send.cancelled and send.texts == []


async def test_a_failed_send_marks_the_socket_broken() -> None:
    hub, _ = await make_hub()
    stopped: list[bool] = []
    sink = SocketSink(
        SendPolicy(1 << 20, hub.stats), lambda: stopped.append(True), RecordingSend(fail=True)
    )
    sink.push(message(1))
    await next_turn()
    assert sink.broken and stopped == [True]


async def test_replay_buffer_floor_and_idle_topic_eviction() -> None:
    hub, todo = await make_hub(replay=ReplayLimits(messages=3), idle_topics=1)
    sink = ListSink()
    member = await hub.join(sink, "todo", "g", None)
    for index in range(5):
        await todo.set("g", f"k{index}", {})
    ids = [m.event_id for m in sink.messages[1:]]
    hub.leave(member)
    assert await hub.resume(ListSink(), "todo", "g", None, ids[0]) is None
    again = ListSink()
    resumed = await hub.resume(again, "todo", "g", None, ids[2])
    assert resumed is not None and [m.event_id for m in again.messages] == ids[3:]
    assert hub.stats.replay_evicted == 2
    hub.leave(resumed)
    other = await hub.join(ListSink(), "todo", "h", None)
    hub.leave(other)
    assert ("stream:todo", "g") not in hub.topics
    assert await hub.resume(ListSink(), "todo", "g", None, ids[4]) is None


async def test_replay_buffers_keep_within_their_byte_bounds() -> None:
    limits = ReplayLimits(messages=1000, bytes=20_000, total_bytes=50_000)
    hub, todo = await make_hub(replay=limits)
    for group in range(10):
        member = await hub.join(ListSink(), "todo", f"g{group}", None)
        hub.leave(member)
        for index in range(20):
            await todo.set(f"g{group}", f"k{index}", {"blob": "x" * 1000})
        topic = hub.topics[("stream:todo", f"g{group}")]
        assert topic.replay.bytes <= limits.bytes
        assert hub.budget.bytes <= limits.total_bytes
    assert hub.budget.bytes == sum(t.replay.bytes for t in hub.topics.values())
    assert hub.stats.replay_evicted > 0 and hub.stats.replay_evicted_bytes > 150_000
    # The group published last kept its newest messages; resuming from them is exact.
    last = hub.topics[("stream:todo", "g9")].replay
    kept = [m.event_id for m in last.after(-1)]
    again = ListSink()
    assert await hub.resume(again, "todo", "g9", None, kept[0]) is not None
    assert [m.event_id for m in again.messages] == kept[1:]


async def test_idle_groups_expire_after_the_idle_timeout() -> None:
    hub, todo = await make_hub(idle_timeout=0.05)
    member = await hub.join(ListSink(), "todo", "g", None)
    await todo.set("g", "a", {})
    hub.leave(member)
    assert hub.budget.bytes > 0
    with anyio.fail_after(5):
        while hub.topics:
            await anyio.sleep(0.01)
    assert hub.budget.bytes == 0


async def test_an_id_from_another_epoch_or_not_an_id_is_not_resumed() -> None:
    hub, todo = await make_hub()
    sink = ListSink()
    await hub.join(sink, "todo", "g", None)
    await todo.set("g", "a", {})
    good = sink.messages[-1].event_id
    _, version, seq = good.split(".")
    for other in [f"ffffffff.{version}.{seq}", "12", "", f"{good}.1", "x.y.z"]:
        assert await hub.resume(ListSink(), "todo", "g", None, other) is None
    assert await hub.resume(ListSink(), "todo", "g", None, good) is not None


async def test_changes_during_the_snapshot_follow_the_sync() -> None:
    hub, todo = await make_hub()
    store = hub.store
    original = store.snapshot

    async def racing_snapshot(namespace: str, group_id: str) -> Any:
        await todo.set("g", "before", {})
        result = await original(namespace, group_id)
        await todo.set("g", "after", {})
        await todo.set("g", "before", {"again": True})
        return result

    store.snapshot = racing_snapshot  # type: ignore[method-assign]
    sink = ListSink()
    await hub.join(sink, "todo", "g", None)
    kinds = [(m.kind, m.item_id) for m in sink.messages]
    assert kinds == [("sync", None), ("create", "after"), ("update", "before")]
    assert json.loads(sink.messages[0].text)["event"]["data"] == [{"id": "before"}]
    stamps = [m.timestamp for m in sink.messages]
    assert stamps == sorted(set(stamps))


async def test_shutdown_tells_every_sink_and_refuses_new_ones() -> None:
    hub, _ = await make_hub()
    closed: list[str] = []

    class Closing(ListSink):
        def shutdown(self) -> None:
            closed.append("x")

    hub.sinks.add(Closing())
    hub.shutdown()
    assert closed == ["x"] and hub.closing
    hub.stop()
    assert len(hub.store.feed) == 0


class ResetRecordingSink(ListSink):
    def __init__(self) -> None:
        super().__init__()
        self.resets = 0

    def reset(self, member: Any) -> None:
        self.resets += 1


async def test_a_resync_sends_every_member_a_fresh_sync_and_forgets_the_replay() -> None:
    from motia.backends.base import Resync

    hub, todo = await make_hub()
    group, item = ResetRecordingSink(), ResetRecordingSink()
    await hub.join(group, "todo", "g", None)
    await hub.join(item, "todo", "g", "a")
    await todo.set("g", "a", {"n": 1})
    topic = next(iter(hub.topics.values()))
    resumable = group.messages[-1].position
    assert topic.replay.covers(resumable)

    await hub.store.set("stream:todo", "g", "b", {"id": "b"})  # changes the store behind the feed
    hub.store.feed.publish(Resync("listener reconnected"))
    with anyio.fail_after(5):
        while group.resets == 0 or item.resets == 0:
            await anyio.sleep(0.01)
    last_group, last_item = group.messages[-1], item.messages[-1]
    assert last_group.kind == "sync"
    assert json.loads(last_group.text)["event"]["data"] == [{"id": "a", "n": 1}, {"id": "b"}]
    assert json.loads(last_item.text)["event"] == {"type": "sync", "data": {"id": "a", "n": 1}}
    assert not topic.replay.covers(resumable)

    await todo.set("g", "c", {})
    assert (
        group.messages[-1].kind == "create" and group.messages[-1].timestamp > last_group.timestamp
    )
