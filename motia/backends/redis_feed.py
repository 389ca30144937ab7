"""Change fan-out between processes over Redis pub/sub.

Every ``RedisStore`` publishes each committed change on one channel (from the
write's Lua script) and each ephemeral event with ``PUBLISH``. A ``FeedListener``
per process is the only way messages reach the local ``ChangeFeed``, the
process's own writes included: every process therefore sees every change
exactly once and in version order, whichever process wrote it. A change whose
version is not above the last one delivered is dropped. A write waits
(``delivered``) until its own change has come back, so when it returns, this
process's subscribers have seen it, as with the embedded backends.

Each time it subscribes, the listener reads the store's epoch (a token kept in
Redis, made anew when Redis lost its data) and current position into the feed
(``ChangeFeed.epoch`` / ``anchor``): every message after that position reaches
this process.

The listener is supervised: when its connection fails (Redis restarted, a
network blip, ``CLIENT KILL``) or stops answering ``PING``, it reconnects with
capped exponential backoff, resubscribes and publishes a ``Resync`` on the
feed, because anything published meanwhile is lost to this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import secrets
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from motia._core.backoff import Backoff
from motia.backends.base import (
    Change,
    ChangeFeed,
    ChangeKind,
    Ephemeral,
    Resync,
    dump_json,
    position,
    split_position,
)
from motia.backends.ops import JSON

__all__ = ["FeedListener", "decode_message", "encode_ephemeral", "ephemeral_fields"]

log = logging.getLogger("motia.backends.redis")

_KINDS: dict[str, ChangeKind] = {"create": "create", "update": "update", "delete": "delete"}


def ephemeral_fields(event: Ephemeral) -> str:
    """The JSON line of an ephemeral event, which the ``PUBLISH`` script stamps and sends."""
    return dump_json([event.namespace, event.group_id, event.item_id, event.event_type, event.data])


def encode_ephemeral(event: Ephemeral) -> str:
    return f"event\n{event.version}\n{event.seq}\n{ephemeral_fields(event)}"


def decode_message(text: str) -> Change | Ephemeral:
    """Parse one message of the feed channel (see ``redis_scripts`` for the format)."""
    kind, _, rest = text.partition("\n")
    if kind == "event":
        version, seq, fields = rest.split("\n", 2)
        namespace, group_id, item_id, event_type, data = json.loads(fields)
        return Ephemeral(namespace, group_id, item_id, event_type, data, int(version), int(seq))
    version, header, old_text, new_text = rest.split("\n", 3)
    namespace, group_id, item_id = json.loads(header)
    return Change(
        namespace, group_id, item_id, _KINDS[kind], _load(old_text), _load(new_text), int(version)
    )


def _load(text: str) -> JSON | None:
    return json.loads(text) if text else None


class FeedListener:
    """Subscribes ``client`` to ``channel`` and forwards every message to ``feed``."""

    def __init__(
        self,
        client: Redis,
        channel: str,
        feed: ChangeFeed,
        *,
        version_key: str,
        seq_key: str,
        epoch_key: str,
        ping_interval: float = 5.0,
        max_backoff: float = 5.0,
    ) -> None:
        self.client = client
        self.channel = channel
        self.feed = feed
        # Read after a reconnect to notice a Redis that came back without its data.
        self.version_key = version_key
        self.seq_key = seq_key
        self.epoch_key = epoch_key
        self.ping_interval = ping_interval
        self.max_backoff = max_backoff
        self.connected = False
        self.reconnects = 0
        self.last_version = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiter_ids = itertools.count()
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe (the server has confirmed it on return), then listen in a task."""
        await self._subscribe()
        await self._anchor()
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop_connection()

    async def _subscribe(self) -> None:
        pubsub = self.client.pubsub()
        self._pubsub = pubsub
        await pubsub.subscribe(self.channel)
        # Wait for the confirmation: from here on no publish can be missed.
        async with asyncio.timeout(self.ping_interval * 2):
            while await pubsub.get_message(timeout=self.ping_interval) is None:
                pass
        self.connected = True

    async def _anchor(self) -> None:
        """Read the epoch and the position from which this subscription sees everything."""
        client = self.client
        await client.set(self.epoch_key, secrets.token_hex(4), nx=True)
        epoch, version, seq = await client.mget(self.epoch_key, self.version_key, self.seq_key)
        self.feed.epoch = str(epoch)
        self.feed.anchor = position(int(version or 0), int(seq or 0))

    async def delivered(self, version: int) -> None:
        """Return once the change ``version`` reached the feed (or the feed lost its link)."""
        if version <= self.last_version or not self.connected:
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (version, next(self._waiter_ids), waiter))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.ping_interval * 2):
                await waiter

    def _wake(self, everyone: bool = False) -> None:
        while self._waiters and (everyone or self._waiters[0][0] <= self.last_version):
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)

    async def _drop_connection(self) -> None:
        self.connected = False
        self._wake(everyone=True)
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- supervision --------------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            try:
                await self._pump()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("change feed connection lost (%s); reconnecting", exc or type(exc))
            except Exception:
                log.exception("change feed listener failed; reconnecting")
            await self._drop_connection()
            await self._reconnect()

    async def _reconnect(self) -> None:
        backoff = Backoff(cap=self.max_backoff)
        while True:
            try:
                await self._subscribe()
                await self._after_gap()
                return
            except (RedisError, OSError, TimeoutError) as exc:
                await self._drop_connection()
                log.debug("change feed still unreachable: %s", exc)
            await backoff.wait()

    async def _after_gap(self) -> None:
        await self._anchor()
        version, _ = split_position(self.feed.anchor)
        if version < self.last_version:
            # Redis came back without its data: versions start again from 1.
            log.warning("store version went back from %d to %d", self.last_version, version)
            self.last_version = 0
        self.reconnects += 1
        log.info("change feed reconnected; subscribers resync")
        self.feed.publish(Resync("the change feed reconnected; changes may have been missed"))

    # -- reading ------------------------------------------------------------------------

    async def _pump(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        silent = 0
        while True:
            message = await pubsub.get_message(timeout=self.ping_interval)
            if message is not None:
                silent = 0
                self._deliver(message)
                continue
            silent += 1
            if silent > 1:
                raise TimeoutError(f"no answer to PING within {self.ping_interval:g}s")
            await pubsub.ping()

    def _deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        try:
            decoded = decode_message(message["data"])
        except (ValueError, KeyError, TypeError):
            log.exception("unreadable change feed message %r", message["data"][:200])
            return
        if isinstance(decoded, Change):
            if decoded.version <= self.last_version:
                return
            self.last_version = decoded.version
        self.feed.publish(decoded)
        self._wake()
