"""A ``Store`` in one SQLite file (by default under ``.motia/``), shared by local processes.

Every store runs its statements in a ``SQLiteThread`` (shared with the SQLite queue
on the same file), so blocking calls never run on the event loop. Writes of
concurrent callers commit together in one ``BEGIN IMMEDIATE`` transaction, each
in its own savepoint, and every write bumps the store-wide version in the
``meta`` table; writers in other processes are serialised by SQLite itself. The
change feed is in-process: other processes' writes are visible to reads, not
published here.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from motia.backends.base import (
    Change,
    ChangeKind,
    Store,
    UpdateCheck,
    dump_json,
    load_json,
    updated,
)
from motia.backends.ops import JSON, ensure_json
from motia.backends.sqlite_thread import SQLiteBackend

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    namespace TEXT NOT NULL,
    group_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (namespace, group_id, item_id)
);
CREATE INDEX IF NOT EXISTS items_by_group_seq ON items (namespace, group_id, seq);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('version', 0);
"""

_UPSERT = """
INSERT INTO items (namespace, group_id, item_id, value, seq) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (namespace, group_id, item_id) DO UPDATE SET value = excluded.value
"""


class SQLiteStore(SQLiteBackend, Store):
    """Items in ``path`` (WAL mode); the parent folder is created on ``open()``."""

    schema = _SCHEMA

    async def open(self) -> None:
        await super().open()
        # Ephemeral events are placed after the last change, which may come from an earlier run.
        self.feed.version = await self.thread.run(_current_version)

    # --- the worker thread -------------------------------------------------------------------

    async def _write(self, work: Callable[[sqlite3.Cursor], T]) -> T:
        # Published from the commit's callback, so a write whose caller was cancelled
        # while waiting is still published, exactly once.
        return await self.thread.run(work, write=True, on_commit=self._publish)

    def _publish(self, written: object) -> None:
        """Publish what a write returned: a change, a list of them, or None."""
        for change in written if isinstance(written, builtins.list) else [written]:
            if isinstance(change, Change):
                self.feed.publish(change)

    # --- reads -------------------------------------------------------------------------------

    async def get(self, namespace: str, group_id: str, item_id: str) -> JSON | None:
        return await self.thread.run(partial(_read_one, namespace, group_id, item_id))

    async def list(self, namespace: str, group_id: str) -> builtins.list[tuple[str, JSON]]:
        return await self.thread.run(partial(_read_group, namespace, group_id))

    async def snapshot(
        self, namespace: str, group_id: str
    ) -> tuple[builtins.list[tuple[str, JSON]], int]:
        # Both reads run in one transaction, so the items and the version agree.
        return await self.thread.run(partial(_snapshot, namespace, group_id))

    async def list_groups(self, namespace: str) -> builtins.list[str]:
        return await self.thread.run(partial(_group_ids, namespace))

    # --- writes ------------------------------------------------------------------------------

    async def set(self, namespace: str, group_id: str, item_id: str, value: Any) -> Change:
        stored = ensure_json(value)
        return await self._write(partial(_put, namespace, group_id, item_id, lambda _: stored))

    async def update(
        self,
        namespace: str,
        group_id: str,
        item_id: str,
        ops: builtins.list[dict[str, Any]],
        *,
        check: UpdateCheck | None = None,
    ) -> Change:
        compute = partial(updated, ops=ops, check=check)
        return await self._write(partial(_put, namespace, group_id, item_id, compute))

    async def delete(self, namespace: str, group_id: str, item_id: str) -> Change | None:
        return await self._write(partial(_delete, namespace, group_id, item_id))

    async def clear(self, namespace: str, group_id: str) -> builtins.list[Change]:
        return await self._write(partial(_clear, namespace, group_id))


def _read_one(namespace: str, group_id: str, item_id: str, cursor: sqlite3.Cursor) -> JSON | None:
    return _load_row(cursor.execute(*_select_one(namespace, group_id, item_id)).fetchone())


def _read_group(
    namespace: str, group_id: str, cursor: sqlite3.Cursor
) -> builtins.list[tuple[str, JSON]]:
    rows = cursor.execute(
        "SELECT item_id, value FROM items WHERE namespace = ? AND group_id = ? ORDER BY seq",
        (namespace, group_id),
    )
    return [(item_id, load_json(text)) for item_id, text in rows]


def _snapshot(
    namespace: str, group_id: str, cursor: sqlite3.Cursor
) -> tuple[builtins.list[tuple[str, JSON]], int]:
    return _read_group(namespace, group_id, cursor), _current_version(cursor)


def _group_ids(namespace: str, cursor: sqlite3.Cursor) -> builtins.list[str]:
    rows = cursor.execute(
        "SELECT DISTINCT group_id FROM items WHERE namespace = ? ORDER BY group_id",
        (namespace,),
    )
    return [group_id for (group_id,) in rows]


def _put(
    namespace: str,
    group_id: str,
    item_id: str,
    compute: Callable[[JSON | None], JSON],
    cursor: sqlite3.Cursor,
) -> Change:
    row = cursor.execute(*_select_one(namespace, group_id, item_id)).fetchone()
    old_value = _load_row(row)
    new_value = compute(old_value)
    version = _bump_version(cursor, 1)
    cursor.execute(_UPSERT, (namespace, group_id, item_id, dump_json(new_value), version))
    # The row, not its value: a stored null is an item too.
    kind: ChangeKind = "create" if row is None else "update"
    return Change(namespace, group_id, item_id, kind, old_value, new_value, version)


def _delete(namespace: str, group_id: str, item_id: str, cursor: sqlite3.Cursor) -> Change | None:
    row = cursor.execute(*_select_one(namespace, group_id, item_id)).fetchone()
    if row is None:
        return None
    version = _bump_version(cursor, 1)
    cursor.execute(
        "DELETE FROM items WHERE namespace = ? AND group_id = ? AND item_id = ?",
        (namespace, group_id, item_id),
    )
    return Change(namespace, group_id, item_id, "delete", _load_row(row), None, version)


def _clear(namespace: str, group_id: str, cursor: sqlite3.Cursor) -> builtins.list[Change]:
    items = _read_group(namespace, group_id, cursor)
    last = _bump_version(cursor, len(items))
    cursor.execute("DELETE FROM items WHERE namespace = ? AND group_id = ?", (namespace, group_id))
    first = last - len(items) + 1
    return [
        Change(namespace, group_id, item_id, "delete", value, None, first + index)
        for index, (item_id, value) in enumerate(items)
    ]


def _select_one(namespace: str, group_id: str, item_id: str) -> tuple[str, tuple[str, ...]]:
    return (
        "SELECT value FROM items WHERE namespace = ? AND group_id = ? AND item_id = ?",
        (namespace, group_id, item_id),
    )


def _load_row(row: tuple[str] | None) -> JSON | None:
    return None if row is None else load_json(row[0])


def _bump_version(cursor: sqlite3.Cursor, count: int) -> int:
    row = cursor.execute(
        "UPDATE meta SET value = value + ? WHERE name = 'version' RETURNING value", (count,)
    ).fetchone()
    return int(row[0])


def _current_version(cursor: sqlite3.Cursor) -> int:
    row = cursor.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
    return int(row[0])
