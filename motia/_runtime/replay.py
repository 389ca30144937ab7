"""Replay buffers: each watched stream group's recent messages, for SSE resumes.

A ``Replay`` holds one group's messages in feed order and its ``floor``: the
position after which it holds every message of the group, so a client whose
last event is at or after the floor can be replayed exactly. Its bounds are in
messages and in bytes; the whole process's buffers share one ``ReplayBudget``
in bytes, which evicts from the group that published least recently first.
Evicting the oldest message raises the floor to it. Every eviction is counted
(``Stats.replay_evicted``); a client that asks for evicted messages is told to
start over (a reset and a fresh sync).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from motia._runtime.stats import Stats

if TYPE_CHECKING:
    from motia._runtime.hub import Message

__all__ = ["Replay", "ReplayBudget", "ReplayLimits"]

log = logging.getLogger("motia.streams")

MESSAGE_OVERHEAD = 200
"""Bytes a kept message costs besides its text: the message object and its slot."""
_LOG_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class ReplayLimits:
    messages: int = 512
    bytes: int = 1024 * 1024
    total_bytes: int = 64 * 1024 * 1024


def message_size(message: Message) -> int:
    return sys.getsizeof(message.text) + MESSAGE_OVERHEAD


class Replay:
    """One group's kept messages, oldest first."""

    __slots__ = ("__weakref__", "budget", "bytes", "floor", "messages")

    def __init__(self, budget: ReplayBudget, floor: int) -> None:
        self.budget = budget
        self.messages: deque[tuple[Message, int]] = deque()
        self.bytes = 0
        self.floor = floor

    def append(self, message: Message) -> None:
        size = message_size(message)
        self.messages.append((message, size))
        self.bytes += size
        limits = self.budget.limits
        while self.messages and (len(self.messages) > limits.messages or self.bytes > limits.bytes):
            self.evict_oldest()
        self.budget.added(self, size)

    def evict_oldest(self) -> int:
        message, size = self.messages.popleft()
        self.bytes -= size
        self.floor = message.position
        self.budget.removed(self, size, evicted=True)
        return size

    def after(self, position: int) -> Iterator[Message]:
        """The kept messages after ``position``, oldest first."""
        for message, _ in self.messages:
            if message.position > position:
                yield message

    def clear(self, floor: int) -> None:
        """Keep nothing; only what comes after ``floor`` is replayable from now on."""
        self.budget.removed(self, self.bytes, evicted=False)
        self.messages.clear()
        self.bytes = 0
        self.floor = floor

    def covers(self, position: int) -> bool:
        return position >= self.floor


class ReplayBudget:
    """The process's bound on the bytes of every replay buffer together."""

    def __init__(self, limits: ReplayLimits, stats: Stats) -> None:
        self.limits = limits
        self.stats = stats
        self.bytes = 0
        self._recent: OrderedDict[Replay, None] = OrderedDict()
        self._logged_at = 0.0

    def added(self, replay: Replay, size: int) -> None:
        self.bytes += size
        self._recent[replay] = None
        self._recent.move_to_end(replay)
        if self.bytes > self.limits.total_bytes:
            self._evict_to_bound()

    def removed(self, replay: Replay, size: int, *, evicted: bool) -> None:
        self.bytes -= size
        if not replay.messages:
            self._recent.pop(replay, None)
        if evicted:
            self.stats.replay_evicted += 1
            self.stats.replay_evicted_bytes += size

    def _evict_to_bound(self) -> None:
        while self.bytes > self.limits.total_bytes and self._recent:
            oldest = next(iter(self._recent))
            if oldest.messages:
                oldest.evict_oldest()
            else:
                self._recent.pop(oldest, None)
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY:
            self._logged_at = now
            log.info(
                "stream replay buffers reached their %d-byte bound: oldest messages dropped "
                "(%d so far); SSE clients resuming from them get a fresh sync",
                self.limits.total_bytes,
                self.stats.replay_evicted,
            )
