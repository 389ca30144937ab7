"""The fan-out hub between the store's change feed and stream subscribers.

A ``Topic`` is one ``(stream, group)`` that someone watches. Each feed message
for it is stamped from the topic's clock (epoch ms, strictly increasing),
turned into one protocol ``Message`` (PROTOCOL.md, JSON text built once) and
offered to every ``Member`` (one joined subscription). The hub knows nothing of
transports: a member's ``Sink`` (a WebSocket, an SSE response) encodes the
message for its wire through ``Message.encoded``, once per message whatever the
number of subscribers. A topic also keeps a bounded replay buffer for SSE
``Last-Event-ID`` resumes, and stays around for a while after its last member
leaves so a reconnecting client can resume.

A join registers its member before taking the store's snapshot; changes seen
meanwhile wait in the member's ``pending`` list and those already in the
snapshot (``version <=`` its version) are dropped, so the sync is followed by
neither a gap nor a duplicate.

When the feed says changes may have been missed (``Resync``: a shared
backend's listener reconnected), every watched topic forgets its replay
buffer and each member's sink is told (``Sink.reset``) before a fresh ``sync``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Protocol

from motia._core.json import dumps
from motia._project.stream_config import StreamConfig
from motia._runtime.stats import Stats
from motia._runtime.streams import Streams, stream_namespace
from motia.backends.base import Change, Ephemeral, FeedMessage, Resync, Store
from motia.backends.ops import JSON

__all__ = ["Closable", "Hub", "Member", "Message", "Sink", "Topic", "now_ms"]

log = logging.getLogger("motia.streams")

DEFAULT_REPLAY_SIZE = 512
DEFAULT_IDLE_TOPICS = 256


def now_ms() -> int:
    return time.time_ns() // 1_000_000


Encoder = Callable[["Message"], bytes]


class Message:
    """One server-to-client message of the stream protocol, shared by every subscriber."""

    __slots__ = ("_encodings", "item_id", "kind", "tail", "text", "timestamp", "version")

    def __init__(
        self, timestamp: int, kind: str, item_id: str | None, version: int | None, tail: str
    ) -> None:
        self.timestamp = timestamp
        self.kind = kind
        self.item_id = item_id
        self.version = version
        self.tail = tail
        self.text = self.stamped(timestamp)
        self._encodings: dict[Encoder, bytes] = {}

    @classmethod
    def build(
        cls,
        topic: Topic,
        timestamp: int,
        item_id: str | None,
        event: dict[str, JSON],
        version: int | None = None,
    ) -> Message:
        body: dict[str, JSON] = {"streamName": topic.stream_name, "groupId": topic.group_id}
        if item_id is not None:
            body["id"] = item_id
        body["event"] = event
        tail = "," + dumps(body)[1:]
        return cls(timestamp, str(event["type"]), item_id, version, tail)

    def stamped(self, timestamp: int) -> str:
        """The JSON text with another timestamp (no JSON encoding: a string join)."""
        return f'{{"timestamp":{timestamp}{self.tail}'

    def encoded(self, encoder: Encoder) -> bytes:
        """What ``encoder`` (a transport's wire format) makes of this message, made once."""
        wire = self._encodings.get(encoder)
        if wire is None:
            wire = self._encodings[encoder] = encoder(self)
        return wire


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

    __slots__ = ("item_id", "min_version", "pending", "sink", "topic")

    def __init__(self, topic: Topic, sink: Sink, item_id: str | None) -> None:
        self.topic = topic
        self.sink = sink
        self.item_id = item_id
        self.min_version = -1
        self.pending: list[Message] | None = []

    def offer(self, message: Message) -> None:
        item_id = self.item_id
        if item_id is None:
            # Item-scoped ephemeral events go to that item's subscribers only.
            if message.item_id is not None and message.kind == "event":
                return
        elif message.item_id != item_id:
            return
        if message.version is not None and message.version <= self.min_version:
            return
        if self.pending is not None:
            self.pending.append(message)
        else:
            self.sink.push(message)


class Topic:
    """The watched ``(stream, group)``: its clock, members and replay buffer."""

    def __init__(self, stream_name: str, group_id: str, replay_size: int) -> None:
        self.stream_name = stream_name
        self.group_id = group_id
        self.members: set[Member] = set()
        self.replay: deque[Message] = deque(maxlen=replay_size)
        self.last = now_ms()
        self.floor = self.last

    def stamp(self) -> int:
        self.last = max(now_ms(), self.last + 1)
        return self.last

    def publish(self, feed_message: Change | Ephemeral) -> None:
        message = self._message(feed_message)
        if self.replay.maxlen and len(self.replay) == self.replay.maxlen:
            self.floor = self.replay[0].timestamp
        self.replay.append(message)
        for member in list(self.members):
            member.offer(message)

    def _message(self, feed_message: Change | Ephemeral) -> Message:
        timestamp = self.stamp()
        item_id = feed_message.item_id
        if isinstance(feed_message, Change):
            deleted = feed_message.kind == "delete"
            data = feed_message.old_value if deleted else feed_message.new_value
            event: dict[str, JSON] = {"type": feed_message.kind, "data": data}
            return Message.build(self, timestamp, item_id, event, feed_message.version)
        inner: JSON = {"type": feed_message.event_type, "data": feed_message.data}
        return Message.build(self, timestamp, item_id, {"type": "event", "event": inner})

    def forget_replay(self) -> None:
        """What the buffer holds may have gaps: no resume from before now."""
        self.replay.clear()
        self.floor = self.last + 1

    def covers(self, last_event_id: int) -> bool:
        """Whether every message after ``last_event_id`` is still in the replay buffer."""
        return self.floor <= last_event_id <= self.last


class Hub:
    """Routes the store's feed to topics; tracks every open connection for shutdown.

    ``stats`` is the app's one set of counters (``runtime.stats``), which every
    bounded sender of the app counts into.
    """

    def __init__(
        self,
        store: Store,
        streams: Streams,
        *,
        replay_size: int = DEFAULT_REPLAY_SIZE,
        idle_topics: int = DEFAULT_IDLE_TOPICS,
        stats: Stats | None = None,
    ) -> None:
        self.store = store
        self.streams = streams
        self.replay_size = replay_size
        self.idle_topics = idle_topics
        self.topics: dict[tuple[str, str], Topic] = {}
        self._idle: OrderedDict[tuple[str, str], Topic] = OrderedDict()
        self.sinks: set[Closable] = set()
        self.stats = stats if stats is not None else Stats()
        self.closing = False
        self._unsubscribe: Callable[[], None] | None = None
        self._resyncs: set[asyncio.Task[None]] = set()

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        self.closing = False
        self._unsubscribe = self.store.feed.subscribe(self._on_feed)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

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
        member.min_version = version
        pending = [m for m in member.pending or () if m.version is None or m.version > version]
        member.pending = None
        # The sync sits just before the first change it does not contain.
        timestamp = pending[0].timestamp - 1 if pending else topic.stamp()
        data: JSON = [value for _, value in items]
        if member.item_id is not None:
            data = dict(items).get(member.item_id)
        sync = Message.build(topic, timestamp, member.item_id, {"type": "sync", "data": data})
        member.sink.push(sync)
        for message in pending:
            member.sink.push(message)

    def resume(
        self, sink: Sink, stream_name: str, group_id: str, item_id: str | None, last_id: int
    ) -> Member | None:
        """Replay what followed ``last_id`` and go live; None when it is not replayable."""
        topic = self.topics.get((stream_namespace(stream_name), group_id))
        if topic is None or not topic.covers(last_id):
            return None
        self._idle.pop((stream_namespace(stream_name), group_id), None)
        member = Member(topic, sink, item_id)
        member.pending = None
        for message in topic.replay:
            if message.timestamp > last_id:
                member.offer(message)
        topic.members.add(member)
        return member

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
        topic = self.topics.get((message.namespace, message.group_id))
        if topic is not None:
            topic.publish(message)

    async def resync(self, reason: str) -> None:
        """Send every member of every watched topic a fresh sync."""
        watched = [topic for topic in list(self.topics.values()) if topic.members]
        log.info("resyncing %d watched stream group(s): %s", len(watched), reason)
        for topic in list(self.topics.values()):
            topic.forget_replay()
        for topic in watched:
            await self._resync_topic(topic)

    async def _resync_topic(self, topic: Topic) -> None:
        members = list(topic.members)
        for member in members:
            member.pending = []
            member.min_version = -1
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
            topic = self.topics[key] = Topic(stream_name, group_id, self.replay_size)
        return topic

    def _park(self, topic: Topic) -> None:
        key = (stream_namespace(topic.stream_name), topic.group_id)
        self._idle[key] = topic
        while len(self._idle) > self.idle_topics:
            old_key, _ = self._idle.popitem(last=False)
            self.topics.pop(old_key, None)
