"""``RedisQueue``: the queue on Redis Streams, shared by every process using the same prefix.

Each subscriber (a step's queue trigger) has its own stream read through one
consumer group; a delivery's entry sits in the stream while it is ready or
leased. ``claim`` first takes back deliveries whose lease ran out (their
holder died) with ``XCLAIM``, then reads new entries with ``XREADGROUP``;
``ack`` acknowledges and deletes the entry. A claim that finds nothing also
answers when the next delivery is due, so the ``next_due`` that follows costs
no round trip. Delayed deliveries and retries
wait in a sorted set until ``claim`` moves the due ones into the stream. For
FIFO subscribers only one delivery of each message group is in the stream (or
waiting for its retry) at a time: the rest wait in a per-group list and the
next one goes in when the one before is acked or dead. Dead letters go to a
dead-letter stream and keep their delivery hash, so ``replay`` finds them by id.

Every operation is one Lua script (``redis_queue_scripts``), so a process
killed at any point leaves the queue consistent. Keys live under
``{prefix}queue:``, next to the ``RedisStore`` keys of the same prefix.

When a subscriber that had nothing ready gets a delivery, the script publishes
``"{origin} {subscriber}"`` on the queue's ready channel; ``watch`` passes on what
other processes (other origins) announce, so their idle workers claim at once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import quote, unquote

from redis.asyncio import Redis

from motia.backends import redis_queue_scripts
from motia.backends.base import Store, dump_json, load_json
from motia.backends.queue import DeadLetter, Delivery, QueueBackend, Subscriber
from motia.backends.redis_batch import CommandBatcher
from motia.backends.redis_client import (
    CONNECTION_LOST,
    connection_name,
    database_channel,
    delete_under,
    open_client,
    redacted,
    unreachable,
)
from motia.backends.selection import DEFAULT_PREFIX, DEFAULT_URL, redis_location

__all__ = ["RedisQueue"]

_LETTER_FIELDS = ("body", "attempts", "error", "failed_at")


class RedisQueue(QueueBackend):
    """Deliveries in the Redis at ``url``, under ``prefix``."""

    announces_ready = True

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        prefix: str = DEFAULT_PREFIX,
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.connect_timeout = connect_timeout
        self._client: Redis | None = None
        self._batch: CommandBatcher | None = None
        self._due_after_claim: dict[str, float | None] = {}
        self._origin = secrets.token_hex(8)
        """Who this queue is on the ready channel, so it ignores its own news."""
        self.ready_channel = ""
        """Where deliveries made ready are announced (known once open)."""

    @classmethod
    def configured(cls, url: str | None = None, prefix: str | None = None) -> RedisQueue:
        """The queue at ``url`` (else ``MOTIA_REDIS_URL``) under ``prefix`` (else
        ``MOTIA_REDIS_PREFIX``), falling back to the defaults."""
        url, prefix = redis_location(url, prefix)
        return cls(url, prefix=prefix)

    @classmethod
    def beside(cls, store: Store, url: str | None = None, prefix: str | None = None) -> RedisQueue:
        """The queue in the same Redis, under the same prefix, as ``store`` when it is a
        ``RedisStore``; else the one configured by the arguments or the environment."""
        url = getattr(store, "url", None) or url
        return cls.configured(url, getattr(store, "prefix", None) or prefix)

    def __repr__(self) -> str:
        return f"RedisQueue({redacted(self.url)!r}, prefix={self.prefix!r})"

    async def __aenter__(self) -> RedisQueue:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        if self._client is not None:
            return
        client = await open_client(self.url, self.connect_timeout, self.client_name, self)
        self._client = client
        self._batch = CommandBatcher(client, redis_queue_scripts.SCRIPTS)
        self.ready_channel = database_channel(client, f"{self.namespace}ready")

    async def close(self) -> None:
        client, self._client = self._client, None
        batch, self._batch = self._batch, None
        if batch is not None:
            await batch.aclose()
        if client is not None:
            await client.aclose()

    @property
    def client(self) -> Redis:
        if self._client is None:
            raise RuntimeError(f"{self!r} is not open: call `await queue.open()` first")
        return self._client

    @property
    def batch(self) -> CommandBatcher:
        if self._batch is None:
            raise RuntimeError(f"{self!r} is not open: call `await queue.open()` first")
        return self._batch

    @property
    def client_name(self) -> str:
        """The name of this queue's connections in ``CLIENT LIST``."""
        return connection_name("motia-queue", self.prefix)

    @property
    def namespace(self) -> str:
        """The prefix of every key of this queue."""
        return self.prefix + "queue:"

    async def purge(self) -> int:
        """Delete every key of the queue; returns how many were deleted."""
        return await delete_under(self.client, self.namespace)

    # --- the queue ---------------------------------------------------------------------------

    async def push(self, deliveries: list[Delivery]) -> None:
        self._due_after_claim.clear()
        args: list[str] = []
        for d in deliveries:
            group = d.group_id or ""
            args += [d.id, _sub(d.subscriber), d.topic, group, repr(d.available_at), _body(d)]
        await self._call("PUSH", *args)

    async def claim(
        self, subscriber: Subscriber, *, limit: int, lease: float, fifo: bool
    ) -> list[Delivery]:
        if limit <= 0:
            return []
        mode = "fifo" if fifo else "standard"
        sub = _sub(subscriber)
        self._due_after_claim.pop(sub, None)
        due_next, *rows = await self._call("CLAIM", sub, str(limit), repr(lease), mode)
        if not rows:
            self._due_after_claim[sub] = _due(due_next)
        return [
            _delivery(body, int(attempts), float(due))
            for body, attempts, due in zip(rows[0::3], rows[1::3], rows[2::3], strict=True)
        ]

    async def next_due(self, subscriber: Subscriber, *, fifo: bool) -> float | None:
        sub = _sub(subscriber)
        if sub in self._due_after_claim:
            # Asked after a claim that found nothing, with nothing pushed or given back
            # here since: that claim answered already.
            return self._due_after_claim.pop(sub)
        return _due(await self._call("NEXT_DUE", sub))

    async def oldest_waiting(self, subscriber: Subscriber) -> float | None:
        reply = await self._call("OLDEST", _sub(subscriber))
        return None if reply is None else float(reply)

    async def ack(self, delivery: Delivery) -> None:
        await self._call("ACK", delivery.id, str(delivery.attempts))

    async def retry(self, delivery: Delivery, *, at: float, error: str) -> None:
        self._due_after_claim.clear()
        await self._call("RETRY", delivery.id, str(delivery.attempts), repr(at), error)

    async def release(self, delivery: Delivery) -> None:
        self._due_after_claim.clear()
        await self._call("RELEASE", delivery.id, str(delivery.attempts))

    async def bury(self, delivery: Delivery, *, error: str) -> None:
        await self._call("BURY", delivery.id, str(delivery.attempts), error)

    async def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        try:
            entries = await _stream_entries(self.client, self.namespace + "dead")
            ids = [fields["id"] for _, fields in entries]
            async with self.client.pipeline(transaction=False) as pipe:
                for letter_id in ids:
                    pipe.hmget(self.namespace + "d:" + letter_id, list(_LETTER_FIELDS))
                rows = await pipe.execute()
        except CONNECTION_LOST as exc:
            raise unreachable(self, exc) from exc
        letters = [_letter(i, row) for i, row in zip(ids, rows, strict=True) if row[0] is not None]
        return [letter for letter in letters if topic is None or letter.topic == topic]

    async def replay(self, ids: list[str] | None = None) -> list[str]:
        self._due_after_claim.clear()
        which = ["all"] if ids is None else ["some", *ids]
        return cast("list[str]", await self._call("REPLAY", *which))

    async def stats(self) -> dict[str, dict[str, int]]:
        reply = await self._call("STATS")
        totals: dict[str, dict[str, int]] = {}
        for topic, *counts in zip(reply[0::4], reply[1::4], reply[2::4], reply[3::4], strict=True):
            row = totals.setdefault(topic, {"depth": 0, "in_flight": 0, "retries": 0})
            for name, count in zip(("depth", "in_flight", "retries"), counts, strict=True):
                row[name] += int(count)
        return {topic: row for topic, row in totals.items() if any(row.values())}

    async def watch(self, ready: Callable[[Subscriber | None], None]) -> None:
        pubsub = self.client.pubsub()
        try:
            await pubsub.subscribe(self.ready_channel)
            async for message in pubsub.listen():
                if message["type"] == "subscribe":  # confirmed: no news can be missed now
                    ready(None)
                elif message["type"] == "message":
                    origin, _, sub = message["data"].partition(" ")
                    if origin != self._origin:
                        ready(_subscriber(sub))
        except CONNECTION_LOST as exc:
            raise unreachable(self, exc) from exc
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _call(self, script: str, *args: str) -> Any:
        context = [self.namespace, repr(time.time()), self.ready_channel, self._origin]
        try:
            return await self.batch.script(script, [], [*context, *args])
        except CONNECTION_LOST as exc:
            raise unreachable(self, exc) from exc


async def _stream_entries(client: Redis, key: str) -> list[tuple[str, dict[str, str]]]:
    """Every entry of the stream at ``key``, as ``(entry id, fields)``."""
    # The client decodes replies (decode_responses=True), but redis-py types every
    # reply as bytes | str, and an entry's fields as possibly None.
    entries = cast("Awaitable[list[tuple[str, dict[str, str]]]]", client.xrange(key))
    return await entries


def _sub(subscriber: Subscriber) -> str:
    return f"{quote(subscriber.step, safe='')}:{subscriber.index}"


def _subscriber(sub: str) -> Subscriber:
    step, _, index = sub.rpartition(":")
    return Subscriber(unquote(step), int(index))


def _due(reply: str | None) -> float | None:
    return None if reply is None else float(reply)


def _body(d: Delivery) -> str:
    return dump_json(
        {
            "id": d.id,
            "message_id": d.message_id,
            "topic": d.topic,
            "step": d.subscriber.step,
            "index": d.subscriber.index,
            "data": d.data,
            "trace_id": d.trace_id,
            "group_id": d.group_id,
            "traceparent": d.traceparent,
        }
    )


def _delivery(body: str, attempts: int, due: float) -> Delivery:
    fields = cast("dict[str, Any]", load_json(body))
    return Delivery(
        id=fields["id"],
        message_id=fields["message_id"],
        topic=fields["topic"],
        subscriber=Subscriber(fields["step"], fields["index"]),
        data=fields["data"],
        trace_id=fields["trace_id"],
        group_id=fields["group_id"],
        attempts=attempts,
        available_at=due,
        traceparent=fields.get("traceparent"),
    )


def _letter(letter_id: str, row: list[str | None]) -> DeadLetter:
    body, attempts, error, failed_at = row
    fields = cast("dict[str, Any]", load_json(body or "{}"))
    return DeadLetter(
        id=letter_id,
        message_id=fields["message_id"],
        topic=fields["topic"],
        step=fields["step"],
        data=fields["data"],
        trace_id=fields["trace_id"],
        group_id=fields["group_id"],
        attempts=int(attempts or 0),
        error=error or "",
        failed_at=float(failed_at or 0),
    )
