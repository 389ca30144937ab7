"""Clients for the Redis store and queue, and the Lua scripts they run.

Both backends open the same kind of client (named connections from a blocking pool,
never retrying a command by itself), run their writes as Lua scripts kept in
``lua/`` and read once at import, and keep every key under one prefix.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from importlib.resources import files
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from motia.exceptions import StoreUnavailable

__all__ = [
    "CONNECTION_LOST",
    "MAX_CONNECTIONS",
    "connect",
    "connection_name",
    "delete_under",
    "open_client",
    "read_scripts",
    "redacted",
    "unreachable",
]

MAX_CONNECTIONS = 64
"""Connections a process opens to Redis per client; more concurrent commands wait their turn."""

_POOL_WAIT = 30.0  # seconds a command may wait for a free connection
_UNREACHABLE = (RedisError, OSError, TimeoutError)
CONNECTION_LOST = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
"""What a command raises when Redis is down or the connection to it broke."""


def connect(url: str, connect_timeout: float, name: str) -> Redis:
    """A client for one of the app's Redis connections (named, never retrying writes)."""
    # A blocking pool: a burst of commands queues for a connection instead of failing
    # (newer redis-py clients refuse past their default pool size).
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=_POOL_WAIT,
        decode_responses=True,
        client_name=name,
        socket_connect_timeout=connect_timeout,
        socket_keepalive=True,
        # No automatic retry: re-sending a write script after a lost reply could apply it twice.
        retry=Retry(NoBackoff(), 0),
        retry_on_error=[],
    )
    client: Redis = Redis.from_pool(pool)  # the client owns the pool: closing closes both
    return client


async def open_client(url: str, connect_timeout: float, name: str, owner: object) -> Redis:
    """A client that has answered a ping, so a wrong URL fails at ``open()``, not later."""
    client = connect(url, connect_timeout, name)
    try:
        await client.ping()
    except _UNREACHABLE as exc:
        await client.aclose()
        raise unreachable(owner, exc) from exc
    return client


def unreachable(owner: object, exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"{owner!r}: cannot reach Redis: {exc}")


def database_channel(client: Redis, name: str) -> str:
    """The pub/sub channel ``name`` of ``client``'s database: Redis delivers a publish to the
    subscribers of every database, so two apps with one prefix on two databases must not
    share a channel."""
    database = client.connection_pool.connection_kwargs.get("db", 0)
    return f"{name}:{database}"


def connection_name(kind: str, prefix: str) -> str:
    """The name ``CLIENT LIST`` shows for ``kind``'s connections under ``prefix``."""
    return f"{kind}@" + re.sub(r"[^\w:.@-]", "_", prefix)


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    password = urlsplit(url).password
    return url if not password else url.replace(f":{password}@", ":***@", 1)


def read_scripts(folder: str, names: Iterable[str], prelude: str | None = None) -> dict[str, str]:
    """The text of ``lua/{folder}/{name}.lua`` by upper-case name, each after ``prelude``'s."""
    scripts = files("motia.backends").joinpath("lua", folder)

    def text(name: str) -> str:
        return scripts.joinpath(f"{name.lower()}.lua").read_text(encoding="utf-8")

    head = "" if prelude is None else text(prelude) + "\n"
    return {name: head + text(name) for name in names}


async def delete_under(client: Redis, prefix: str) -> int:
    """Delete every key that starts with ``prefix``; returns how many were deleted."""
    deleted = 0
    async for batch in _batches(client.scan_iter(match=_glob_escape(prefix) + "*")):
        deleted += await client.delete(*batch)
    return deleted


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


async def _batches(keys: AsyncIterator[str], size: int = 500) -> AsyncIterator[list[str]]:
    batch: list[str] = []
    async for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
