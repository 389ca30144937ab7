"""``SQLiteQueue``: the embedded, durable queue, in the same SQLite file as the state.

Deliveries live in their own table. Every write runs in the ``SQLiteThread``
the queue shares with the store of the same file, committed together with the
writes of concurrent callers, so a message whose ``push`` returned survives a
killed process; several processes may share the file. The ``sql_*`` functions
take a connection, so tools can work on the file without an event loop (see
``motia.queues.admin``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from functools import partial
from typing import Any

from motia.backends.base import dump_json, load_json
from motia.backends.queue import DeadLetter, Delivery, QueueBackend, Subscriber
from motia.backends.sqlite import SQLiteStore
from motia.backends.sqlite_thread import SQLiteBackend, transaction
from motia.backends.sqlite_thread import connect as connect_file

__all__ = [
    "SQLiteQueue",
    "connect",
    "sql_dead_letters",
    "sql_replay",
    "sql_stats",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    step TEXT NOT NULL,
    trigger_index INTEGER NOT NULL,
    data TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    group_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_until REAL,
    dead INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    failed_at REAL,
    traceparent TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_due
    ON queue_deliveries (step, trigger_index, dead, available_at);
CREATE INDEX IF NOT EXISTS queue_by_group
    ON queue_deliveries (step, trigger_index, dead, group_id, seq)
"""

_COLUMNS = (
    "id, message_id, topic, step, trigger_index, data, trace_id, group_id, attempts, available_at, "
    "traceparent"
)
_CLAIMABLE = "available_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
_GROUP_HEAD = """seq = (SELECT MIN(h.seq) FROM queue_deliveries AS h
    WHERE h.step = m.step AND h.trigger_index = m.trigger_index AND h.dead = 0
    AND h.group_id IS m.group_id)"""
_MINE = "step = ? AND trigger_index = ? AND dead = 0"
_DUE = "MAX(available_at, COALESCE(lease_until, 0))"


def connect(path: str | os.PathLike[str], busy_timeout: float = 30.0) -> sqlite3.Connection:
    """Open ``path`` (or ``":memory:"``) in WAL mode with the queue tables."""
    return connect_file(path, busy_timeout, _SCHEMA)


class SQLiteQueue(SQLiteBackend, QueueBackend):
    """Deliveries in ``path``; its writes commit together with those of the thread's users."""

    schema = _SCHEMA

    @classmethod
    def beside(cls, store: SQLiteStore) -> SQLiteQueue:
        """The queue in ``store``'s file, on its connection: their writes commit together."""
        return cls(store.path, busy_timeout=store.busy_timeout, thread=store.thread)

    async def open(self) -> None:
        await super().open()
        await self.thread.run(_add_traceparent_column, write=True)

    async def push(self, deliveries: list[Delivery]) -> None:
        await self.thread.run(partial(_insert, deliveries), write=True)

    async def claim(
        self, subscriber: Subscriber, *, limit: int, lease: float, fifo: bool
    ) -> list[Delivery]:
        return await self.thread.run(partial(_lease, subscriber, limit, lease, fifo), write=True)

    async def next_due(self, subscriber: Subscriber, *, fifo: bool) -> float | None:
        return await self.thread.run(partial(_next_due, subscriber, fifo))

    async def oldest_waiting(self, subscriber: Subscriber) -> float | None:
        return await self.thread.run(partial(_oldest_waiting, subscriber))

    async def ack(self, delivery: Delivery) -> None:
        await self.thread.run(
            partial(_write, "DELETE FROM queue_deliveries", (), delivery), write=True
        )

    async def retry(self, delivery: Delivery, *, at: float, error: str) -> None:
        change = "SET lease_until = NULL, available_at = ?, error = ?"
        await self.thread.run(partial(_update, change, (at, error), delivery), write=True)

    async def release(self, delivery: Delivery) -> None:
        change = "SET lease_until = NULL, attempts = attempts - 1"
        await self.thread.run(partial(_update, change, (), delivery), write=True)

    async def bury(self, delivery: Delivery, *, error: str) -> None:
        change = "SET dead = 1, lease_until = NULL, error = ?, failed_at = ?"
        await self.thread.run(partial(_update, change, (error, time.time()), delivery), write=True)

    async def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        return await self.thread.run(partial(_dead_letters_of, topic))

    async def replay(self, ids: list[str] | None = None) -> list[str]:
        return await self.thread.run(partial(_replayed, ids), write=True)

    async def stats(self) -> dict[str, dict[str, int]]:
        return await self.thread.run(sql_stats)


def _insert(deliveries: list[Delivery], cursor: sqlite3.Cursor) -> None:
    rows = [
        (
            d.id,
            d.message_id,
            d.topic,
            d.subscriber.step,
            d.subscriber.index,
            dump_json(d.data),
            d.trace_id,
            d.group_id,
            d.available_at,
            d.traceparent,
        )
        for d in deliveries
    ]
    cursor.executemany(
        "INSERT INTO queue_deliveries (id, message_id, topic, step, trigger_index, data, "
        "trace_id, group_id, available_at, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _lease(
    subscriber: Subscriber, limit: int, lease: float, fifo: bool, cursor: sqlite3.Cursor
) -> list[Delivery]:
    now = time.time()
    where = f"{_MINE} AND {_CLAIMABLE}" + (f" AND {_GROUP_HEAD}" if fifo else "")
    order = "seq" if fifo else "available_at, seq"
    rows = cursor.execute(
        f"SELECT {_COLUMNS} FROM queue_deliveries AS m WHERE {where} ORDER BY {order} LIMIT ?",
        (subscriber.step, subscriber.index, now, now, limit),
    ).fetchall()
    cursor.executemany(
        "UPDATE queue_deliveries SET attempts = attempts + 1, lease_until = ? WHERE id = ?",
        [(now + lease, row[0]) for row in rows],
    )
    return [_delivery(row, attempts=row[8] + 1) for row in rows]


def _next_due(subscriber: Subscriber, fifo: bool, cursor: sqlite3.Cursor) -> float | None:
    # In FIFO order only each group's oldest delivery can become claimable.
    where = _MINE + (f" AND {_GROUP_HEAD}" if fifo else "")
    row = cursor.execute(
        f"SELECT MIN({_DUE}) FROM queue_deliveries AS m WHERE {where}",
        (subscriber.step, subscriber.index),
    ).fetchone()
    return None if row[0] is None else float(row[0])


def _oldest_waiting(subscriber: Subscriber, cursor: sqlite3.Cursor) -> float | None:
    # The due-time index yields rows oldest first: only the leased ones are stepped over.
    now = time.time()
    row = cursor.execute(
        f"SELECT available_at FROM queue_deliveries WHERE {_MINE} AND available_at <= ? "
        "AND (lease_until IS NULL OR lease_until <= ?) ORDER BY available_at LIMIT 1",
        (subscriber.step, subscriber.index, now, now),
    ).fetchone()
    return None if row is None else float(row[0])


def sql_dead_letters(
    conn: sqlite3.Connection | sqlite3.Cursor, topic: str | None = None
) -> list[DeadLetter]:
    query = (
        "SELECT id, message_id, topic, step, data, trace_id, group_id, attempts, error, "
        "failed_at FROM queue_deliveries WHERE dead = 1"
    )
    params: tuple[Any, ...] = ()
    if topic is not None:
        query, params = query + " AND topic = ?", (topic,)
    rows = conn.execute(query + " ORDER BY failed_at, seq", params).fetchall()
    return [
        DeadLetter(r[0], r[1], r[2], r[3], load_json(r[4]), r[5], r[6], r[7], r[8] or "", r[9])
        for r in rows
    ]


def sql_replay(conn: sqlite3.Connection, ids: list[str] | None = None) -> list[str]:
    """Make dead letters ready now with a fresh attempt count; return the ids replayed."""
    with transaction(conn) as cursor:
        return _replayed(ids, cursor)


def _replayed(ids: list[str] | None, cursor: sqlite3.Cursor) -> list[str]:
    query = (
        "UPDATE queue_deliveries SET dead = 0, attempts = 0, available_at = ?, "
        "lease_until = NULL, failed_at = NULL WHERE dead = 1"
    )
    params: list[Any] = [time.time()]
    if ids is not None:
        query += f" AND id IN ({', '.join('?' * len(ids))})"
        params.extend(ids)
    return [row[0] for row in cursor.execute(query + " RETURNING id", params)]


def sql_stats(conn: sqlite3.Connection | sqlite3.Cursor) -> dict[str, dict[str, int]]:
    leased = "lease_until IS NOT NULL AND lease_until > ?"
    query = f"""SELECT topic,
        COALESCE(SUM(NOT ({leased})), 0),
        COALESCE(SUM({leased}), 0),
        COALESCE(SUM(attempts > 0), 0)
        FROM queue_deliveries WHERE dead = 0 GROUP BY topic"""
    now = time.time()
    rows = conn.execute(query, (now, now)).fetchall()
    return {
        topic: {"depth": depth, "in_flight": in_flight, "retries": retries}
        for topic, depth, in_flight, retries in rows
    }


def _dead_letters_of(topic: str | None, cursor: sqlite3.Cursor) -> list[DeadLetter]:
    return sql_dead_letters(cursor, topic)


def _update(
    change: str, params: tuple[Any, ...], delivery: Delivery, cursor: sqlite3.Cursor
) -> None:
    _write(f"UPDATE queue_deliveries {change}", params, delivery, cursor)


def _write(
    statement: str, params: tuple[Any, ...], delivery: Delivery, cursor: sqlite3.Cursor
) -> None:
    # Matching the attempt leaves alone a delivery that was claimed again after its lease ran out.
    cursor.execute(
        f"{statement} WHERE id = ? AND attempts = ? AND dead = 0",
        (*params, delivery.id, delivery.attempts),
    )


def _delivery(row: tuple[Any, ...], *, attempts: int) -> Delivery:
    return Delivery(
        id=row[0],
        message_id=row[1],
        topic=row[2],
        subscriber=Subscriber(row[3], row[4]),
        data=load_json(row[5]),
        trace_id=row[6],
        group_id=row[7],
        attempts=attempts,
        available_at=row[9],
        traceparent=row[10],
    )


def _add_traceparent_column(cursor: sqlite3.Cursor) -> None:
    """Files written before deliveries carried their trace context gain the column."""
    columns = {row[1] for row in cursor.execute("PRAGMA table_info(queue_deliveries)")}
    if "traceparent" not in columns:
        cursor.execute("ALTER TABLE queue_deliveries ADD COLUMN traceparent TEXT")
