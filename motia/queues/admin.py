"""Dead letters of a project's queue, listed and replayed without running the app.

These work on the SQLite file directly (``.motia/motia.db`` under the
project), or on the Redis queue at a URL, so they are safe to use while the
app is serving: a replayed message is picked up by the running workers within
their idle poll. A running app offers the same through ``Motia(...).runtime.queues``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from motia.backends.queue import DeadLetter
from motia.backends.selection import database_path
from motia.backends.sqlite_queue import connect, sql_dead_letters, sql_replay

if TYPE_CHECKING:
    from motia.backends.redis_queue import RedisQueue

__all__ = [
    "database_path",
    "list_dead_letters",
    "list_redis_dead_letters",
    "replay_dead_letters",
    "replay_redis_dead_letters",
]

T = TypeVar("T")


def list_dead_letters(db_path: str | Path, topic: str | None = None) -> list[DeadLetter]:
    with _open(db_path) as conn:
        return sql_dead_letters(conn, topic)


def replay_dead_letters(db_path: str | Path, ids: list[str] | None = None) -> list[str]:
    """Make the dead letters ``ids`` (all when None) ready again; return the ids replayed."""
    with _open(db_path) as conn:
        return sql_replay(conn, ids)


def list_redis_dead_letters(
    url: str | None = None, *, prefix: str | None = None, topic: str | None = None
) -> list[DeadLetter]:
    """Dead letters of the Redis queue at ``url`` (else ``MOTIA_REDIS_URL``)."""
    return _on_redis(url, prefix, lambda queue: queue.dead_letters(topic))


def replay_redis_dead_letters(
    url: str | None = None, ids: list[str] | None = None, *, prefix: str | None = None
) -> list[str]:
    """Make the Redis queue's dead letters ``ids`` (all when None) ready again."""
    return _on_redis(url, prefix, lambda queue: queue.replay(ids))


def _on_redis(url: str | None, prefix: str | None, work: Callable[[RedisQueue], Awaitable[T]]) -> T:
    from motia.backends.redis_queue import RedisQueue

    async def run() -> T:
        async with RedisQueue.configured(url, prefix) as queue:
            return await work(queue)

    return asyncio.run(run())


@contextmanager
def _open(db_path: str | Path) -> Iterator[sqlite3.Connection]:
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no queue database here (has the app run in this folder?)")
    with closing(connect(path)) as conn:
        yield conn
