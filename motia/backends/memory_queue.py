"""``MemoryQueue``: the queue in this process's memory, for the memory store.

Nothing survives the process and nothing is shared with other processes. No
method awaits, so each is atomic on the event loop and costs a few dict and heap
operations (no thread hop, no SQL). A message's data is kept as JSON text and
read back on each claim, so a handler that changes its input cannot change what
a retry gets.

Each subscriber has a ``_Lane``: its live deliveries, each group's deliveries in
order, and a heap of the deliveries that may be claimed next, by the time they
become claimable. In FIFO order only each group's oldest delivery is in the heap.
A heap entry is stale once its delivery changed since (``_Entry.version``): such
entries are dropped when they surface.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque

from motia.backends.base import dump_json, load_json
from motia.backends.queue import DeadLetter, Delivery, QueueBackend, Subscriber

__all__ = ["MemoryQueue"]

_SLACK = 64
"""Stale heap entries tolerated beyond one per live delivery before the heap is rebuilt."""


class _Entry:
    """One delivery as stored: its record and where its attempts stand."""

    __slots__ = (
        "attempts", "available_at", "delivery", "error", "failed_at", "lease_until", "seq",
        "text", "version",
    )  # fmt: skip

    def __init__(self, delivery: Delivery, seq: int) -> None:
        self.delivery = delivery
        self.text = dump_json(delivery.data)
        self.seq = seq
        self.attempts = delivery.attempts
        self.available_at = delivery.available_at
        self.lease_until: float | None = None
        self.error: str | None = None
        self.failed_at = 0.0
        self.version = 0

    @property
    def due(self) -> float:
        """When it may be claimed: once available and its lease (if any) has run out."""
        lease = self.lease_until
        return self.available_at if lease is None else max(self.available_at, lease)

    def claimed(self, now: float, lease: float) -> Delivery:
        self.attempts += 1
        self.lease_until = now + lease
        self.version += 1
        d = self.delivery
        return Delivery(
            d.id, d.message_id, d.topic, d.subscriber, load_json(self.text), d.trace_id,
            d.group_id, self.attempts, d.available_at, d.traceparent,
        )  # fmt: skip

    def dead_letter(self) -> DeadLetter:
        d = self.delivery
        return DeadLetter(
            d.id, d.message_id, d.topic, d.subscriber.step, load_json(self.text), d.trace_id,
            d.group_id, self.attempts, self.error or "", self.failed_at,
        )  # fmt: skip


class _Lane:
    """One subscriber's live deliveries (dead letters are kept by the queue), and the
    counts ``stats`` reads without walking them."""

    __slots__ = ("entries", "fifo", "groups", "heap", "leased", "topic", "tried")

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.groups: dict[str | None, deque[_Entry]] = {}
        self.heap: list[tuple[float, int, int, _Entry]] = []
        self.fifo = False
        self.topic = ""
        self.leased: set[_Entry] = set()
        """Entries claimed and not since given back (their lease may have run out)."""
        self.tried = 0
        """Entries with at least one attempt."""

    def add(self, entry: _Entry) -> None:
        self.entries[entry.delivery.id] = entry
        self.topic = entry.delivery.topic
        self.tried += entry.attempts > 0
        group = self.groups.get(entry.delivery.group_id)
        if group is None:
            group = self.groups[entry.delivery.group_id] = deque()
        if not group or group[-1].seq < entry.seq:
            group.append(entry)
        else:  # a replayed dead letter goes back to its place in its group
            group.insert(sum(1 for other in group if other.seq < entry.seq), entry)
            if self.fifo and group[0] is entry:
                group[1].version += 1  # no longer its group's oldest: out of the heap
        if not self.fifo or group[0] is entry:
            self.offer(entry)

    def offer(self, entry: _Entry) -> None:
        """(Re)schedule ``entry`` in the heap at its current due time."""
        heapq.heappush(self.heap, (entry.due, entry.seq, entry.version, entry))
        if len(self.heap) > 2 * len(self.entries) + _SLACK:
            self.reschedule()  # mostly stale entries (acked before their lease ran out)

    def reschedule(self) -> None:
        """A fresh heap of the entries that may be claimed next."""
        scheduled = [g[0] for g in self.groups.values()] if self.fifo else self.entries.values()
        self.heap = [(e.due, e.seq, e.version, e) for e in scheduled]
        heapq.heapify(self.heap)

    def remove(self, entry: _Entry) -> None:
        del self.entries[entry.delivery.id]
        self.leased.discard(entry)
        self.tried -= entry.attempts > 0
        entry.version += 1
        group_id = entry.delivery.group_id
        group = self.groups[group_id]
        head = group[0] is entry
        group.remove(entry)
        if not group:
            del self.groups[group_id]
        elif head and self.fifo:
            self.offer(group[0])

    def order(self, fifo: bool) -> None:
        """Schedule for ``fifo`` (only each group's oldest) or for any order."""
        if fifo == self.fifo:
            return
        self.fifo = fifo
        self.reschedule()

    def head(self) -> _Entry | None:
        """The entry claimable soonest, stale heap entries dropped on the way."""
        heap = self.heap
        while heap:
            _, _, version, entry = heap[0]
            if entry.version == version:
                return entry
            heapq.heappop(heap)
        return None

    def claim(self, limit: int, lease: float) -> list[Delivery]:
        now = time.time()
        claimed: list[Delivery] = []
        while len(claimed) < limit:
            entry = self.head()
            if entry is None or entry.due > now:
                break
            heapq.heappop(self.heap)
            self.tried += entry.attempts == 0
            claimed.append(entry.claimed(now, lease))
            self.leased.add(entry)
            self.offer(entry)  # claimable again if its lease runs out
        return claimed


class MemoryQueue(QueueBackend):
    """Deliveries in dicts and heaps, per subscriber; dead letters in arrival order."""

    never_suspends = True

    def __init__(self) -> None:
        self._lanes: dict[Subscriber, _Lane] = {}
        self._dead: dict[str, _Entry] = {}
        self._seq = itertools.count()

    def _lane(self, subscriber: Subscriber) -> _Lane:
        lane = self._lanes.get(subscriber)
        if lane is None:
            lane = self._lanes[subscriber] = _Lane()
        return lane

    def _attempt(self, delivery: Delivery) -> tuple[_Lane, _Entry] | None:
        """The live entry of this very attempt; None once it moved on (acked, claimed again)."""
        lane = self._lanes.get(delivery.subscriber)
        entry = None if lane is None else lane.entries.get(delivery.id)
        if lane is None or entry is None or entry.attempts != delivery.attempts:
            return None
        return lane, entry

    async def push(self, deliveries: list[Delivery]) -> None:
        entries = [_Entry(delivery, next(self._seq)) for delivery in deliveries]
        for entry in entries:
            self._lane(entry.delivery.subscriber).add(entry)

    async def claim(
        self, subscriber: Subscriber, *, limit: int, lease: float, fifo: bool
    ) -> list[Delivery]:
        lane = self._lane(subscriber)
        lane.order(fifo)
        return lane.claim(limit, lease)

    async def next_due(self, subscriber: Subscriber, *, fifo: bool) -> float | None:
        lane = self._lane(subscriber)
        lane.order(fifo)
        head = lane.head()
        return None if head is None else head.due

    async def oldest_waiting(self, subscriber: Subscriber) -> float | None:
        lane = self._lanes.get(subscriber)
        head = None if lane is None else lane.head()
        if head is None or head.due > time.time():
            return None
        # The heap orders by due time: a lease that ran out puts its delivery there late.
        return head.available_at

    async def ack(self, delivery: Delivery) -> None:
        found = self._attempt(delivery)
        if found is not None:
            lane, entry = found
            lane.remove(entry)

    async def retry(self, delivery: Delivery, *, at: float, error: str) -> None:
        self._reschedule(delivery, at=at, error=error)

    async def release(self, delivery: Delivery) -> None:
        self._reschedule(delivery, undo_attempt=True)

    def _reschedule(
        self,
        delivery: Delivery,
        *,
        at: float | None = None,
        error: str | None = None,
        undo_attempt: bool = False,
    ) -> None:
        found = self._attempt(delivery)
        if found is None:
            return
        lane, entry = found
        entry.lease_until = None
        lane.leased.discard(entry)
        entry.version += 1
        if at is not None:
            entry.available_at = at
        if error is not None:
            entry.error = error
        if undo_attempt:
            entry.attempts -= 1
            lane.tried -= entry.attempts == 0
        group = lane.groups[delivery.group_id]
        if not lane.fifo or group[0] is entry:
            lane.offer(entry)

    async def bury(self, delivery: Delivery, *, error: str) -> None:
        found = self._attempt(delivery)
        if found is None:
            return
        lane, entry = found
        lane.remove(entry)
        entry.lease_until = None
        entry.error = error
        entry.failed_at = time.time()
        self._dead[delivery.id] = entry

    async def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        dead = sorted(self._dead.values(), key=lambda e: (e.failed_at, e.seq))
        return [e.dead_letter() for e in dead if topic is None or e.delivery.topic == topic]

    async def replay(self, ids: list[str] | None = None) -> list[str]:
        """Make dead letters ready now with a fresh attempt count; return the ids replayed."""
        chosen = list(self._dead) if ids is None else [i for i in ids if i in self._dead]
        now = time.time()
        for delivery_id in chosen:
            entry = self._dead.pop(delivery_id)
            entry.attempts = 0
            entry.available_at = now
            entry.failed_at = 0.0
            entry.version += 1
            self._lane(entry.delivery.subscriber).add(entry)
        return chosen

    async def stats(self) -> dict[str, dict[str, int]]:
        """Counted as deliveries come and go: a reading walks only the leased ones."""
        now = time.time()
        stats: dict[str, dict[str, int]] = {}
        for lane in self._lanes.values():
            if not lane.entries:
                continue
            counts = stats.setdefault(lane.topic, {"depth": 0, "in_flight": 0, "retries": 0})
            in_flight = sum(
                1 for e in lane.leased if e.lease_until is not None and e.lease_until > now
            )
            counts["in_flight"] += in_flight
            counts["depth"] += len(lane.entries) - in_flight
            counts["retries"] += lane.tried
        return stats
