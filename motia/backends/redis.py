"""A ``Store`` in Redis, shared by every process and machine that uses the same prefix.

Each write is one Lua script (``redis_scripts``): it changes the item, bumps the
store-wide version and publishes the change, atomically. ``update`` applies its
ops in Python, then writes with a compare-and-set script that refuses when the
item changed since it was read, and retries; the updates of one item waiting in
one process are written together (``redis_updates``), so retries only happen
between processes. The commands of one turn of the event loop go to Redis in one
pipeline (``redis_batch``).

Changes reach ``feed`` only through Redis pub/sub (``redis_feed``), this
process's own writes included, so every process delivers every change once, in
version order; a write returns once its change has been delivered here. Keys, all under ``prefix``::

    {prefix}version                     the store-wide version
    {prefix}events                      how many ephemeral events were sent
    {prefix}epoch                       a token made anew when Redis lost its data
    {prefix}items:{namespace}:{group}   hash of item id -> JSON text
    {prefix}order:{namespace}:{group}   zset of item ids by creating version
    {prefix}groups:{namespace}          set of non-empty group ids
    {prefix}feed:{db}                   the pub/sub channel (channels are shared by every
                                        database of a server: it names its own)
    {prefix}cron:{tick}                 one lock per cron tick (``motia.backends.cron_lock``)

Namespaces and group ids are percent-encoded in key names.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Awaitable
from typing import Any, cast
from urllib.parse import quote

from redis.asyncio import Redis
from redis.exceptions import RedisError

from motia.backends import redis_scripts
from motia.backends.base import (
    Change,
    ChangeKind,
    Ephemeral,
    Store,
    UpdateCheck,
    dump_json,
    load_json,
)
from motia.backends.cron_lock import claim_tick
from motia.backends.ops import JSON, ensure_json
from motia.backends.redis_batch import CommandBatcher
from motia.backends.redis_client import (
    MAX_CONNECTIONS,
    connect,
    connection_name,
    database_channel,
    delete_under,
    open_client,
    redacted,
    unreachable,
)
from motia.backends.redis_feed import FeedListener, ephemeral_fields
from motia.backends.redis_updates import Item, Stale, UpdateBatcher
from motia.backends.selection import DEFAULT_PREFIX, DEFAULT_URL

__all__ = ["DEFAULT_PREFIX", "DEFAULT_URL", "MAX_CONNECTIONS", "RedisStore", "connect"]


class RedisStore(Store):
    """Items, versions and the change feed in the Redis at ``url``."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        prefix: str = DEFAULT_PREFIX,
        ping_interval: float = 5.0,
        tick_ttl: float = 600.0,
        listen: bool = True,
    ) -> None:
        super().__init__()
        self.listen = listen
        self.url = url
        self.prefix = prefix
        self.ping_interval = ping_interval
        self.tick_ttl = tick_ttl
        self._client: Redis | None = None
        self._listener: FeedListener | None = None
        self._batch: CommandBatcher | None = None
        self.channel = ""
        """The pub/sub channel of the change feed (known once open)."""
        self._updates = UpdateBatcher(self._read_item, self._write_updates)

    def __repr__(self) -> str:
        return f"RedisStore({redacted(self.url)!r}, prefix={self.prefix!r})"

    # --- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._client is not None:
            return
        client = await open_client(self.url, self.ping_interval, self.client_name, self)
        self.channel = database_channel(client, f"{self.prefix}feed")
        if not self.listen:
            self._client = client
            self._batch = CommandBatcher(client, redis_scripts.SCRIPTS)
            return
        listener = FeedListener(
            client,
            self.channel,
            self.feed,
            version_key=self.key("version"),
            seq_key=self.key("events"),
            epoch_key=self.key("epoch"),
            ping_interval=self.ping_interval,
        )
        try:
            await listener.start()
        except (RedisError, OSError, TimeoutError) as exc:
            await listener.stop()
            await client.aclose()
            raise unreachable(self, exc) from exc
        self._client, self._listener = client, listener
        self._batch = CommandBatcher(client, redis_scripts.SCRIPTS)

    def twin(self) -> RedisStore:
        """A client of its own (the change feed still reaches this store through Redis)."""
        return RedisStore(
            self.url,
            prefix=self.prefix,
            ping_interval=self.ping_interval,
            tick_ttl=self.tick_ttl,
            listen=False,
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        listener, self._listener = self._listener, None
        batch, self._batch = self._batch, None
        await self._updates.aclose()
        if listener is not None:
            await listener.stop()
        if batch is not None:
            await batch.aclose()
        if client is not None:
            await client.aclose()

    @property
    def client(self) -> Redis:
        if self._client is None:
            raise RuntimeError(f"{self!r} is not open: call `await store.open()` first")
        return self._client

    @property
    def batch(self) -> CommandBatcher:
        if self._batch is None:
            raise RuntimeError(f"{self!r} is not open: call `await store.open()` first")
        return self._batch

    @property
    def listening(self) -> bool:
        """Whether the change feed is subscribed right now."""
        return self._listener is not None and self._listener.connected

    @property
    def client_name(self) -> str:
        """The name of this store's connections in ``CLIENT LIST``."""
        return connection_name("motia", self.prefix)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def ping(self, timeout: float = 1.0) -> bool:
        """Whether Redis answers and the change feed is subscribed (for readiness probes)."""
        try:
            async with asyncio.timeout(timeout):
                await self.client.ping()
        except (RedisError, OSError, TimeoutError, RuntimeError):
            return False
        return self.listening

    async def claim_tick(self, tick: str) -> bool:
        """True in exactly one process for each cron tick."""
        return await claim_tick(self.client, self.key("cron", tick), self.tick_ttl)

    async def purge(self) -> int:
        """Delete every key under the prefix; returns how many were deleted."""
        return await delete_under(self.client, self.prefix)

    # --- reads -------------------------------------------------------------------------------

    async def get(self, namespace: str, group_id: str, item_id: str) -> JSON | None:
        text = await self._hget(self._items(namespace, group_id), item_id)
        return None if text is None else load_json(text)

    async def list(self, namespace: str, group_id: str) -> builtins.list[tuple[str, JSON]]:
        items, _ = await self.snapshot(namespace, group_id)
        return items

    async def snapshot(
        self, namespace: str, group_id: str
    ) -> tuple[builtins.list[tuple[str, JSON]], int]:
        try:
            reply = await self.batch.script("SNAPSHOT", self._keys(namespace, group_id), [])
        except (RedisError, OSError) as exc:
            raise unreachable(self, exc) from exc
        version, *flat = reply
        return [(item_id, load_json(text)) for item_id, text in _pairs(flat)], int(version)

    async def list_groups(self, namespace: str) -> builtins.list[str]:
        key = self.key("groups", quote(namespace, safe=""))
        members: set[str] = await cast("Awaitable[set[str]]", self.client.smembers(key))
        return sorted(members)

    # --- writes ------------------------------------------------------------------------------

    async def set(self, namespace: str, group_id: str, item_id: str, value: Any) -> Change:
        return await self._write(namespace, group_id, item_id, ensure_json(value))

    async def update(
        self,
        namespace: str,
        group_id: str,
        item_id: str,
        ops: builtins.list[dict[str, Any]],
        *,
        check: UpdateCheck | None = None,
    ) -> Change:
        change = await self._updates.update((namespace, group_id, item_id), ops, check)
        await self._delivered(change.version)
        return change

    async def delete(self, namespace: str, group_id: str, item_id: str) -> Change | None:
        args = [item_id, group_id, self.channel, _header(namespace, group_id, item_id)]
        reply = await self.batch.script("DELETE", self._keys(namespace, group_id), args)
        if reply is None:
            return None
        version, old_text = reply
        await self._delivered(int(version))
        old_value = load_json(old_text)
        return Change(namespace, group_id, item_id, "delete", old_value, None, int(version))

    async def clear(self, namespace: str, group_id: str) -> builtins.list[Change]:
        prefix = dump_json([namespace, group_id])[:-1] + ","
        args = [group_id, self.channel, prefix]
        reply = await self.batch.script("CLEAR", self._keys(namespace, group_id), args)
        if not reply:
            return []
        last, *flat = reply
        pairs = _pairs(flat)
        first = int(last) - len(pairs) + 1
        await self._delivered(int(last))
        return [
            Change(namespace, group_id, item_id, "delete", load_json(text), None, first + index)
            for index, (item_id, text) in enumerate(pairs)
        ]

    async def publish(self, message: Ephemeral) -> None:
        keys = [self.key("version"), self.key("events")]
        await self.batch.script("PUBLISH", keys, [self.channel, ephemeral_fields(message)])

    async def _write(self, namespace: str, group_id: str, item_id: str, value: JSON) -> Change:
        header = _header(namespace, group_id, item_id)
        args = [item_id, group_id, self.channel, header, dump_json(value)]
        reply = await self.batch.script("WRITE", self._keys(namespace, group_id), args)
        version, old_text = [*reply, None][:2]
        await self._delivered(int(version))
        kind: ChangeKind = "create" if old_text is None else "update"
        old_value = None if old_text is None else load_json(old_text)
        return Change(namespace, group_id, item_id, kind, old_value, value, int(version))

    async def _read_item(self, item: Item) -> str | None:
        namespace, group_id, item_id = item
        return await self._hget(self._items(namespace, group_id), item_id)

    async def _write_updates(
        self, item: Item, expected: str | None, texts: builtins.list[str]
    ) -> int | Stale:
        namespace, group_id, item_id = item
        expect = "" if expected is None else "v" + expected
        args = [item_id, group_id, self.channel, _header(*item), expect, *texts]
        reply = await self.batch.script("UPDATE", self._keys(namespace, group_id), args)
        version, current = [*reply, None][:2]
        return Stale(current) if version == -1 else int(version)

    async def _delivered(self, version: int) -> None:
        if self._listener is not None:
            await self._listener.delivered(version)

    async def _hget(self, key: str, field: str) -> str | None:
        text: str | None = await self.batch.command("HGET", key, field)
        return text

    # --- keys and locks ----------------------------------------------------------------------

    def _items(self, namespace: str, group_id: str) -> str:
        return self.key("items", quote(namespace, safe=""), quote(group_id, safe=""))

    def _keys(self, namespace: str, group_id: str) -> builtins.list[str]:
        group = (quote(namespace, safe=""), quote(group_id, safe=""))
        return [
            self.key("items", *group),
            self.key("order", *group),
            self.key("groups", group[0]),
            self.key("version"),
        ]


def _header(namespace: str, group_id: str, item_id: str) -> str:
    return dump_json([namespace, group_id, item_id])


def _pairs(flat: builtins.list[str]) -> builtins.list[tuple[str, str]]:
    return list(zip(flat[0::2], flat[1::2], strict=True))
