"""The storage interface behind ``ctx.state`` and ``ctx.streams``.

A ``Store`` keeps JSON items addressed by ``(namespace, group_id, item_id)``.
Every successful write is committed first, then published exactly once on the
store's ``feed`` as a ``Change`` carrying a store-wide, strictly increasing
``version``. A subscriber that registers on the feed, takes a ``snapshot`` and
drops buffered changes whose version is ``<=`` the snapshot's version sees no
gap and no duplicate between the snapshot and the live changes.

Every message of the feed also has a ``position`` (``feed_position``): the
version of the last change before it and, for an ephemeral event, its place
among the events that followed that change (``seq``). Positions follow the
feed's order and, on a shared backend, mean the same in every process; with the
feed's ``epoch`` they name one message wherever it was delivered.
"""

from __future__ import annotations

import abc
import builtins
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, ClassVar, Literal

from motia._core.json import dumps
from motia.backends.ops import JSON, apply_ops, ensure_json

__all__ = [
    "Change",
    "ChangeFeed",
    "ChangeKind",
    "Ephemeral",
    "FeedCallback",
    "FeedMessage",
    "Resync",
    "Store",
    "UpdateCheck",
    "dump_json",
    "feed_position",
    "load_json",
    "position",
    "split_position",
    "updated",
]

logger = logging.getLogger("motia.backends")

ChangeKind = Literal["create", "update", "delete"]


@dataclass(frozen=True, slots=True)
class Change:
    """One committed set/update/delete of a stored item.

    ``old_value`` and ``new_value`` are shared by every subscriber: treat them as read-only.
    """

    namespace: str
    group_id: str
    item_id: str
    kind: ChangeKind
    old_value: JSON | None
    new_value: JSON | None
    version: int


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """An event sent to a stream's subscribers and never stored (``stream.send``)."""

    namespace: str
    group_id: str
    item_id: str | None
    event_type: str
    data: JSON
    version: int = field(default=0, compare=False)
    """The store version when it was sent (set by the feed or the shared backend)."""
    seq: int = field(default=0, compare=False)
    """Its number among the events sent after that version; 0 until stamped."""


@dataclass(frozen=True, slots=True)
class Resync:
    """Changes may have been missed (a shared backend's feed reconnected): re-read what you show.

    Versions may also restart lower (a backend that lost its data), so drop any version
    floor kept from before this message.
    """

    reason: str


FeedMessage = Change | Ephemeral | Resync

_SEQ_BITS = 64


def feed_position(message: Change | Ephemeral) -> int:
    """Where ``message`` sits in the feed: ordered like the feed, comparable as integers."""
    return position(message.version, message.seq if type(message) is Ephemeral else 0)


def position(version: int, seq: int = 0) -> int:
    """The position of the ``seq``-th event after change ``version`` (the change itself: 0)."""
    return version << _SEQ_BITS | seq


def split_position(position: int) -> tuple[int, int]:
    """``(version, seq)`` of a position."""
    return position >> _SEQ_BITS, position & ((1 << _SEQ_BITS) - 1)


FeedCallback = Callable[[FeedMessage], None]
UpdateCheck = Callable[[JSON], JSON]
"""Called on an update's result inside the write; returns the value to store or raises."""


def dump_json(value: JSON) -> str:
    """Compact JSON text for storage (``value`` must already be JSON-safe)."""
    return dumps(value)


def load_json(text: str) -> JSON:
    return json.loads(text)


def updated(
    current: JSON | None, ops: builtins.list[dict[str, Any]], check: UpdateCheck | None
) -> JSON:
    """What ``Store.update`` writes: ``current`` after ``ops``, then through ``check``."""
    value = apply_ops(current, ops)
    return value if check is None else ensure_json(check(value))


class ChangeFeed:
    """In-process fan-out of committed changes; callbacks run synchronously and must not block.

    ``epoch`` names the run of positions the feed's messages belong to, and ``anchor``
    the position after which every message reaches this feed. An in-process feed
    starts a new epoch with each feed and sees everything; a shared backend sets both
    when it (re)subscribes. Ephemeral events published here unstamped are stamped here.
    """

    def __init__(self) -> None:
        self._callbacks: dict[int, FeedCallback] = {}
        self._next_id = 0
        self.epoch = secrets.token_hex(4)
        self.anchor = 0
        self.version = 0
        """The version of the last change published here."""
        self._seq = 0

    def subscribe(self, callback: FeedCallback) -> Callable[[], None]:
        """Register ``callback``; the returned function unsubscribes it (idempotent)."""
        subscription_id = self._next_id
        self._next_id += 1
        self._callbacks[subscription_id] = callback

        def unsubscribe() -> None:
            self._callbacks.pop(subscription_id, None)

        return unsubscribe

    def publish(self, message: FeedMessage) -> None:
        if isinstance(message, Change):
            self.version = message.version
        elif isinstance(message, Ephemeral) and not message.seq:
            self._seq += 1
            message = replace(message, version=self.version, seq=self._seq)
        # Iterate over a copy: a callback may unsubscribe itself or others.
        for callback in list(self._callbacks.values()):
            try:
                callback(message)
            except Exception:
                logger.exception("change feed subscriber %r failed", callback)

    def __len__(self) -> int:
        return len(self._callbacks)


class Store(abc.ABC):
    """JSON items by ``(namespace, group_id, item_id)`` with atomic updates and a change feed.

    Use ``async with store:`` or call ``open()`` / ``close()`` around its use.
    """

    feed: ChangeFeed
    never_suspends: ClassVar[bool] = False
    """True when no method ever waits (on I/O or a thread): a call completes in one step."""

    def __init__(self) -> None:
        self.feed = ChangeFeed()

    def twin(self) -> Store:
        """A store on the same data that another event loop may use (unopened if new).

        Itself when nothing in it is tied to the loop that opened it.
        """
        return self

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources; must be called before any other method."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; idempotent."""

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def get(self, namespace: str, group_id: str, item_id: str) -> JSON | None:
        """The stored value, or None when absent."""

    @abc.abstractmethod
    async def set(self, namespace: str, group_id: str, item_id: str, value: Any) -> Change:
        """Store ``ensure_json(value)``: a ``create`` change if absent before, else ``update``."""

    @abc.abstractmethod
    async def update(
        self,
        namespace: str,
        group_id: str,
        item_id: str,
        ops: builtins.list[dict[str, Any]],
        *,
        check: UpdateCheck | None = None,
    ) -> Change:
        """Apply ``ops`` (then ``check``) atomically; on any error nothing is written."""

    @abc.abstractmethod
    async def delete(self, namespace: str, group_id: str, item_id: str) -> Change | None:
        """Remove the item; None when it was absent."""

    @abc.abstractmethod
    async def list(self, namespace: str, group_id: str) -> builtins.list[tuple[str, JSON]]:
        """``(item_id, value)`` pairs in insertion order."""

    @abc.abstractmethod
    async def snapshot(
        self, namespace: str, group_id: str
    ) -> tuple[builtins.list[tuple[str, JSON]], int]:
        """The group's items and the store version, read atomically together."""

    @abc.abstractmethod
    async def list_groups(self, namespace: str) -> builtins.list[str]:
        """Group ids holding at least one item, sorted."""

    @abc.abstractmethod
    async def clear(self, namespace: str, group_id: str) -> builtins.list[Change]:
        """Remove every item of the group; one ``delete`` change per removed item."""

    async def publish(self, message: Ephemeral) -> None:
        """Deliver an ephemeral event to subscribers (in-process here)."""
        self.feed.publish(message)
