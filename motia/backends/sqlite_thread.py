"""One SQLite connection driven by one worker thread, so blocking calls stay off the loop.

Shared by the SQLite state store and the SQLite queue: both are a
``SQLiteBackend``, open the same kind of file (WAL mode, a busy timeout) and run
every statement through ``run``. A folder or a file made for them is readable by its
owner only (0700, 0600; SQLite gives the WAL files the database's mode).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, TypeVar

__all__ = ["SQLiteBackend", "SQLiteThread", "connect", "transaction"]

T = TypeVar("T")


def connect(path: str | os.PathLike[str], busy_timeout: float, schema: str) -> sqlite3.Connection:
    """Open ``path`` (or ``":memory:"``) in WAL mode and run ``schema`` in one transaction."""
    if str(path) != ":memory:":
        _create_private(Path(path))
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still makes each commit durable against a killed process
    # (the WAL is in the OS before COMMIT returns); only an OS crash may lose the last ones.
    conn.execute("PRAGMA synchronous=NORMAL")
    with transaction(conn) as cursor:
        for statement in filter(str.strip, schema.split(";")):
            cursor.execute(statement)
    return conn


def _create_private(path: Path) -> None:
    """``path`` and its folder, made for the owner only if they do not exist yet."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


@contextmanager
def transaction(conn: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Cursor]:
    cursor = conn.cursor()
    cursor.execute(f"BEGIN {mode}")
    try:
        yield cursor
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")


class SQLiteThread:
    """``open()`` connects in the worker thread; ``run(work)`` calls ``work(conn)`` there."""

    def __init__(self, owner: str, path: str | os.PathLike[str], busy_timeout: float) -> None:
        self.owner = owner
        self.path = path
        self.busy_timeout = busy_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection, for code already running in the worker thread."""
        assert self._conn is not None
        return self._conn

    async def open(self, schema: str) -> None:
        if self._executor is not None:
            return
        self.loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="motia-sqlite")
        try:
            self._conn = await self.loop.run_in_executor(
                executor, connect, self.path, self.busy_timeout, schema
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        self._executor = executor

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        conn, self._conn = self._conn, None
        if executor is None or self.loop is None:
            return
        if conn is not None:
            await self.loop.run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self.loop is None or self._conn is None:
            raise RuntimeError(f"{self.owner} is not open: await its open() first")
        # The running loop, not the opening one: sync calls made on the app's loop run
        # this from another thread's loop (see _runtime/sync_calls).
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self._conn)


class SQLiteBackend:
    """A backend in the SQLite file at ``path``, driven by its own ``SQLiteThread``.

    ``open()`` creates the subclass's ``schema``; ``path`` may be ``":memory:"``.
    """

    schema: ClassVar[str]

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        super().__init__()
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._thread = SQLiteThread(repr(self), self.path, busy_timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    async def open(self) -> None:
        await self._thread.open(self.schema)

    async def close(self) -> None:
        await self._thread.close()
