"""The fan-out hub between the store's change feed and stream subscribers.

A ``Topic`` is one ``(stream, group)`` that someone watches. Each feed message
for it is stamped from the topic's clock (epoch ms, strictly increasing),
turned into one protocol ``Message`` (PROTOCOL.md, JSON text built once) and
offered to every ``Member`` (one joined subscription). The hub knows nothing of
transports: a member's ``Sink`` (a WebSocket, an SSE response) encodes the
message for its wire through ``Message.encoded``, once per message whatever the
number of subscribers. A topic also keeps a bounded replay buffer (``replay``) for SSE
``Last-Event-ID`` resumes, and stays around for a while after its last member
leaves so a reconnecting client can resume.

Every message has the ``position`` of the feed message it came from (see
``motia.backends.base``), and an event id made of the feed's epoch and that
position: on a shared backend the same message has the same id in every
process, so a client may resume on any process that watched its group, and is
replayed exactly what followed; any other id gets a reset and a fresh sync.

A join registers its member before taking the store's snapshot; messages seen
meanwhile wait in the member's ``pending`` list. The sync stands at the
snapshot's version: what is at or before it is dropped, so the sync is followed
by neither a gap nor a duplicate.

When the feed says changes may have been missed (``Resync``: a shared
backend's listener reconnected), every watched topic forgets its replay
buffer and each member's sink is told (``Sink.reset``) before a fresh ``sync``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from motia._core.json import dumps
from motia._project.stream_config import StreamConfig
from motia._runtime.replay import Replay, ReplayBudget, ReplayLimits
from motia._runtime.stats import Stats
from motia._runtime.streams import Streams, stream_namespace
from motia.backends.base import (
    Change,
    Ephemeral,
    FeedMessage,
    Resync,
    Store,
    feed_position,
    position,
    split_position,
)
from motia.backends.ops import JSON

__all__ = [
    "Closable",
    "Hub",
    "Member",
    "Message",
    "ReplayLimits",
    "Sink",
    "Topic",
    "now_ms",
    "parse_event_id",
]

log = logging.getLogger("motia.streams")

IDLE_TOPICS = 256
IDLE_TIMEOUT = 120.0
LAG_TIMEOUT = 2.0
"""Seconds a resume waits for this process's feed to reach the client's last event."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


Encoder = Callable[["Message"], bytes]


class Message:
    """One server-to-client message of the stream protocol, shared by every subscriber.

    It holds its JSON ``text`` once; the wire encodings made while it is sent out are
    kept until ``settle`` (the replay buffer keeps the text alone).
    """

    __slots__ = ("_encodings", "epoch", "item_id", "kind", "position", "text", "timestamp")

    def __init__(
        self, timestamp: int, kind: str, item_id: str | None, position: int, epoch: str, text: str
    ) -> None:
        self.timestamp = timestamp
        self.kind = kind
        self.item_id = item_id
        self.position = position
        self.epoch = epoch
        self.text = text
        self._encodings: dict[Encoder, bytes] | None = {}

    @classmethod
    def build(
        cls,
        topic: Topic,
        timestamp: int,
        item_id: str | None,
        event: dict[str, JSON],
        position: int,
    ) -> Message:
        body: dict[str, JSON] = {"streamName": topic.stream_name, "groupId": topic.group_id}
        if item_id is not None:
            body["id"] = item_id
        body["event"] = event
        text = f'{{"timestamp":{timestamp},' + dumps(body)[1:]
        return cls(timestamp, str(event["type"]), item_id, position, topic.epoch, text)

    @property
    def event_id(self) -> str:
        """The id a client resumes from: the same for this message in every process."""
        version, seq = split_position(self.position)
        return f"{self.epoch}.{version}.{seq}"

    def stamped(self, timestamp: int) -> str:
        """The JSON text with another timestamp (no JSON encoding: a string join)."""
        head = len(str(self.timestamp)) + 13  # '{"timestamp":' and the digits
        return f'{{"timestamp":{timestamp}{self.text[head:]}'

    def encoded(self, encoder: Encoder) -> bytes:
        """What ``encoder`` (a transport's wire format) makes of this message, made once."""
        encodings = self._encodings
        if encodings is None:
            return encoder(self)
        wire = encodings.get(encoder)
        if wire is None:
            wire = encodings[encoder] = encoder(self)
        return wire

    def settle(self) -> None:
        """Sent to everyone live: drop the encodings, keep the text for replays."""
        self._encodings = None


def parse_event_id(raw: str) -> tuple[str, int] | None:
    """``(epoch, position)`` of an event id (``Message.event_id``); None when it is not one."""
    parts = raw.strip().split(".")
    if len(parts) != 3 or not all(part.isdigit() for part in parts[1:]):
        return None
    return parts[0], position(int(parts[1]), int(parts[2]))


class Closable(Protocol):
    """An open connection the runtime ends at shutdown."""

    def shutdown(self) -> None: ...


class Sink(Closable, Protocol):
    """Where a connection's messages go; ``push`` never blocks."""

    def push(self, message: Message) -> None: ...

    def reset(self, member: Member) -> None:
        """Changes may have been missed: a fresh ``sync`` for ``member`` follows."""


class Member:
    """One subscription of a sink to a topic (the whole group, or one item)."""

    __slots__ = ("after", "item_id", "pending", "sink", "topic")

    def __init__(self, topic: Topic, sink: Sink, item_id: str | None) -> None:
        self.topic = topic
        self.sink = sink
        self.item_id = item_id
        self.after = -1
        """The position of the last message this member has (or the sync stands at)."""
        self.pending: list[Message] | None = []

    def offer(self, message: Message) -> None:
        item_id = self.item_id
        if item_id is None:
            # Item-scoped ephemeral events go to that item's subscribers only.
            if message.item_id is not None and message.kind == "event":
                return
        elif message.item_id != item_id:
            return
        if message.position <= self.after:
            return
        if self.pending is not None:
            self.pending.append(message)
        else:
            self.sink.push(message)


class Topic:
    """The watched ``(stream, group)``: its clock, members and replay buffer."""

    def __init__(self, hub: Hub, stream_name: str, group_id: str) -> None:
        self.hub = hub
        self.stream_name = stream_name
        self.group_id = group_id
        self.members: set[Member] = set()
        self.replay = Replay(hub.budget, hub.position)
        self.last = now_ms()
        self.idle_since = 0.0

    @property
    def epoch(self) -> str:
        return self.hub.store.feed.epoch

    def stamp(self) -> int:
        self.last = max(now_ms(), self.last + 1)
        return self.last

    def publish(self, feed_message: Change | Ephemeral, at: int) -> None:
        message = self._message(feed_message, at)
        for member in list(self.members):
            member.offer(message)
        message.settle()
        self.replay.append(message)

    def _message(self, feed_message: Change | Ephemeral, at: int) -> Message:
        timestamp = self.stamp()
        item_id = feed_message.item_id
        if isinstance(feed_message, Change):
            deleted = feed_message.kind == "delete"
            data = feed_message.old_value if deleted else feed_message.new_value
            event: dict[str, JSON] = {"type": feed_message.kind, "data": data}
            return Message.build(self, timestamp, item_id, event, at)
        inner: JSON = {"type": feed_message.event_type, "data": feed_message.data}
        return Message.build(self, timestamp, item_id, {"type": "event", "event": inner}, at)

    def forget_replay(self, floor: int) -> None:
        """What the buffer holds may have gaps: resume only from ``floor`` on."""
        self.replay.clear(floor)


class Hub:
    """Routes the store's feed to topics; tracks every open connection for shutdown.

    ``stats`` is the app's one set of counters (``runtime.stats``), which every
    bounded sender of the app counts into. ``position`` is where this process's feed
    stands. A group nobody watches keeps its topic (and replay) for ``idle_timeout``
    seconds, ``idle_topics`` such groups at most.
    """

    def __init__(
        self,
        store: Store,
        streams: Streams,
        *,
        replay: ReplayLimits | None = None,
        idle_topics: int = IDLE_TOPICS,
        idle_timeout: float = IDLE_TIMEOUT,
        stats: Stats | None = None,
    ) -> None:
        self.store = store
        self.streams = streams
        self.idle_topics = idle_topics
        self.idle_timeout = idle_timeout
        self.stats = stats if stats is not None else Stats()
        self.budget = ReplayBudget(replay or ReplayLimits(), self.stats)
        self.topics: dict[tuple[str, str], Topic] = {}
        self._idle: OrderedDict[tuple[str, str], Topic] = OrderedDict()
        self._expiry: asyncio.TimerHandle | None = None
        self.sinks: set[Closable] = set()
        self.closing = False
        self.position = 0
        self._epoch = store.feed.epoch
        self._lagging: list[tuple[int, int, asyncio.Future[None]]] = []
        self._lag_ids = itertools.count()
        self._unsubscribe: Callable[[], None] | None = None
        self._resyncs: set[asyncio.Task[None]] = set()

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        self.closing = False
        self.position = self.store.feed.anchor
        self._epoch = self.store.feed.epoch
        self._unsubscribe = self.store.feed.subscribe(self._on_feed)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def shutdown(self) -> None:
        """Refuse new subscribers and tell every open one to finish."""
        self.closing = True
        for sink in list(self.sinks):
            sink.shutdown()

    def config(self, stream_name: str) -> StreamConfig | None:
        return self.streams[stream_name].config if stream_name in self.streams else None

    # -- subscriptions ----------------------------------------------------------------

    async def join(
        self, sink: Sink, stream_name: str, group_id: str, item_id: str | None
    ) -> Member:
        """Register, push the sync then whatever changed meanwhile; live from then on."""
        topic = self._topic(stream_name, group_id)
        member = Member(topic, sink, item_id)
        topic.members.add(member)
        try:
            items, version = await self.store.snapshot(stream_namespace(stream_name), group_id)
        except BaseException:
            self.leave(member)
            raise
        self._go_live(member, items, version)
        return member

    def _go_live(self, member: Member, items: list[tuple[str, JSON]], version: int) -> None:
        topic = member.topic
        member.after = at = position(version)
        pending = [m for m in member.pending or () if m.position > at]
        member.pending = None
        # The sync sits just before the first change it does not contain.
        timestamp = pending[0].timestamp - 1 if pending else topic.stamp()
        data: JSON = [value for _, value in items]
        if member.item_id is not None:
            data = dict(items).get(member.item_id)
        event: dict[str, JSON] = {"type": "sync", "data": data}
        member.sink.push(Message.build(topic, timestamp, member.item_id, event, at))
        for message in pending:
            member.sink.push(message)

    async def resume(
        self, sink: Sink, stream_name: str, group_id: str, item_id: str | None, last_id: str
    ) -> Member | None:
        """Replay what followed the event ``last_id`` and go live; None when that cannot
        be exact (an id of another epoch, of a group not watched here then, or evicted)."""
        parsed = parse_event_id(last_id)
        if parsed is None or parsed[0] != self.store.feed.epoch:
            return None
        after = parsed[1]
        if after > self.position and not await self._caught_up(after):
            return None
        key = (stream_namespace(stream_name), group_id)
        topic = self.topics.get(key)
        if topic is None or not topic.replay.covers(after):
            return None
        self._idle.pop(key, None)
        member = Member(topic, sink, item_id)
        member.pending = None
        member.after = after
        for message in topic.replay.after(after):
            member.offer(message)
        topic.members.add(member)
        return member

    async def _caught_up(self, target: int) -> bool:
        """Wait until this process's feed reached ``target`` (another process may be ahead)."""
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._lagging, (target, next(self._lag_ids), waiter))
        try:
            async with asyncio.timeout(LAG_TIMEOUT):
                await waiter
        except TimeoutError:
            return False
        return self.position >= target

    def leave(self, member: Member) -> None:
        topic = member.topic
        topic.members.discard(member)
        if not topic.members:
            self._park(topic)

    # -- topics -----------------------------------------------------------------------

    def _on_feed(self, message: FeedMessage) -> None:
        if isinstance(message, Resync):
            task = asyncio.get_running_loop().create_task(self.resync(message.reason))
            self._resyncs.add(task)
            task.add_done_callback(self._resyncs.discard)
            return
        self.position = at = feed_position(message)
        if self._lagging:
            self._wake_lagging()
        topic = self.topics.get((message.namespace, message.group_id))
        if topic is not None:
            topic.publish(message, at)

    def _wake_lagging(self, everyone: bool = False) -> None:
        lagging = self._lagging
        while lagging and (everyone or lagging[0][0] <= self.position):
            waiter = heapq.heappop(lagging)[2]
            if not waiter.done():
                waiter.set_result(None)

    async def resync(self, reason: str) -> None:
        """Send every member of every watched topic a fresh sync."""
        feed = self.store.feed
        # A new epoch starts its positions over; else nothing up to here is in the buffers.
        same_epoch = feed.epoch == self._epoch
        self.position = max(self.position, feed.anchor) if same_epoch else feed.anchor
        self._epoch = feed.epoch
        self._wake_lagging(everyone=True)
        watched = [topic for topic in list(self.topics.values()) if topic.members]
        log.info("resyncing %d watched stream group(s): %s", len(watched), reason)
        for topic in list(self.topics.values()):
            topic.forget_replay(self.position)
        for topic in watched:
            await self._resync_topic(topic)

    async def _resync_topic(self, topic: Topic) -> None:
        members = list(topic.members)
        for member in members:
            member.pending = []
            member.after = -1
        namespace = stream_namespace(topic.stream_name)
        try:
            items, version = await self.store.snapshot(namespace, topic.group_id)
        except Exception:
            log.exception("resync of %s/%s failed", topic.stream_name, topic.group_id)
            for member in members:
                member.sink.shutdown()
            return
        for member in members:
            if member in topic.members:
                member.sink.reset(member)
                self._go_live(member, items, version)

    def _topic(self, stream_name: str, group_id: str) -> Topic:
        key = (stream_namespace(stream_name), group_id)
        self._idle.pop(key, None)
        topic = self.topics.get(key)
        if topic is None:
            topic = self.topics[key] = Topic(self, stream_name, group_id)
        return topic

    def _park(self, topic: Topic) -> None:
        key = (stream_namespace(topic.stream_name), topic.group_id)
        topic.idle_since = time.monotonic()
        self._idle[key] = topic
        self._idle.move_to_end(key)
        while len(self._idle) > self.idle_topics:
            self._drop(*self._idle.popitem(last=False))
        if self._expiry is None:
            self._schedule_expiry(self.idle_timeout)

    def _drop(self, key: tuple[str, str], topic: Topic) -> None:
        topic.forget_replay(self.position)
        self.topics.pop(key, None)

    def _schedule_expiry(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(max(delay, 0.0), self._expire_idle)

    def _expire_idle(self) -> None:
        """Drop the topics nobody has watched for ``idle_timeout`` seconds."""
        self._expiry = None
        now = time.monotonic()
        while self._idle:
            key, topic = next(iter(self._idle.items()))
            due = topic.idle_since + self.idle_timeout - now
            if due > 0:
                self._schedule_expiry(due)
                return
            del self._idle[key]
            self._drop(key, topic)
