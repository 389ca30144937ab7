"""One SQLite connection driven by one thread, committing the writes of concurrent callers together.

Shared by the SQLite state store and the SQLite queue (one thread for both when they
use the same file): each is a ``SQLiteBackend`` and runs every statement through
``run``. The jobs callers start during one turn of the event loop are handed to the
thread together; each time the thread wakes it takes every pending job and runs them
(up to ``MAX_BATCH``) in one transaction, each write in its own savepoint, so a write
that raises is undone alone and fails only its caller. After COMMIT returns, one
callback per event loop hands every caller its result: an awaited write is in the WAL,
which survives a killed process (``synchronous=NORMAL``; only an OS crash may lose the
last commits). A folder or a file made for them is readable by its owner only (0700,
0600; SQLite gives the WAL files the database's mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

__all__ = ["SQLiteBackend", "SQLiteThread", "connect", "run_schema", "transaction"]

log = logging.getLogger("motia.sqlite")

T = TypeVar("T")

MAX_BATCH = 256
"""Jobs committed in one transaction at most, so one commit never holds the file for long."""


def connect(path: str | os.PathLike[str], busy_timeout: float, schema: str) -> sqlite3.Connection:
    """Open ``path`` (or ``":memory:"``) in WAL mode and run ``schema`` in one transaction."""
    conn = _open_connection(path, busy_timeout)
    with transaction(conn) as cursor:
        run_schema(schema, cursor)
    return conn


def run_schema(schema: str, cursor: sqlite3.Cursor) -> None:
    for statement in filter(str.strip, schema.split(";")):
        cursor.execute(statement)


def _open_connection(path: str | os.PathLike[str], busy_timeout: float) -> sqlite3.Connection:
    if str(path) != ":memory:":
        _create_private(Path(path))
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still makes each commit durable against a killed process
    # (the WAL is in the OS before COMMIT returns); only an OS crash may lose the last ones.
    conn.execute("PRAGMA synchronous=NORMAL")
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


@dataclass(slots=True)
class _Job:
    work: Callable[[sqlite3.Cursor], Any]
    write: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    on_commit: Callable[[Any], None] | None
    failed: bool = False
    outcome: Any = None

    def fail(self, error: BaseException) -> None:
        self.failed, self.outcome = True, error


_STOP = object()


class SQLiteThread:
    """``run(work)`` calls ``work(cursor)`` in the thread, inside the batch's transaction."""

    def __init__(self, owner: str, path: str | os.PathLike[str], busy_timeout: float) -> None:
        self.owner = owner
        self.path = path
        self.busy_timeout = busy_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outbox: list[_Job] = []
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._users = 0

    async def open(self) -> None:
        """Start the thread for the first user; later users share it."""
        self._users += 1
        if self._thread is not None:
            return
        self.loop = asyncio.get_running_loop()
        opened = self.loop.create_future()
        thread = threading.Thread(
            target=self._main, args=(self.loop, opened), name="motia-sqlite", daemon=True
        )
        thread.start()
        try:
            await opened
        except BaseException:
            self._users -= 1
            await asyncio.to_thread(thread.join)
            raise
        self._thread = thread

    async def close(self) -> None:
        """The last user stops the thread once every job handed over is done."""
        self._users -= 1
        thread = self._thread
        if self._users > 0 or thread is None:
            return
        self._thread = None
        self._hand_over()
        self._inbox.put(_STOP)
        await asyncio.to_thread(thread.join)

    async def run(
        self,
        work: Callable[[sqlite3.Cursor], T],
        *,
        write: bool = False,
        on_commit: Callable[[T], None] | None = None,
    ) -> T:
        """``work``'s result once its transaction committed; ``write`` runs it in a savepoint.

        ``on_commit(result)`` runs on the opening loop after COMMIT, even when the caller was
        cancelled meanwhile, before the callers on that loop are answered.
        """
        if self._thread is None:
            raise RuntimeError(f"{self.owner} is not open: await its open() first")
        # The running loop, not the opening one: sync calls made on the app's loop run
        # this from another thread's loop (see _runtime/sync_calls).
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        job = _Job(work, write, loop, future, on_commit)
        if loop is self.loop:
            # Handed over once per loop iteration: one wake-up of the thread for all of them.
            if not self._outbox:
                loop.call_soon(self._hand_over)
            self._outbox.append(job)
        else:
            self._inbox.put([job])
        result: T = await future
        return result

    def _hand_over(self) -> None:
        if self._outbox:
            jobs, self._outbox = self._outbox, []
            self._inbox.put(jobs)

    # --- the thread ----------------------------------------------------------------------

    def _main(self, loop: asyncio.AbstractEventLoop, opened: asyncio.Future[None]) -> None:
        try:
            self._conn = _open_connection(self.path, self.busy_timeout)
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle_one, opened, exc)
            return
        loop.call_soon_threadsafe(_settle_one, opened, None)
        try:
            self._serve(self._conn)
        finally:
            self._conn.close()
            self._conn = None
            self._refuse_late_jobs()

    def _serve(self, conn: sqlite3.Connection) -> None:
        backlog: list[_Job] = []
        stopping = False
        while True:
            if not stopping:
                stopping = self._collect(backlog, wait=not backlog)
            if not backlog:
                return
            jobs, backlog = backlog[:MAX_BATCH], backlog[MAX_BATCH:]
            try:
                _run_batch(conn, jobs)
            except Exception as exc:  # the connection itself failed, e.g. on ROLLBACK
                _fail_all(jobs, exc)
            self._answer(jobs)

    def _refuse_late_jobs(self) -> None:
        """Jobs handed over while the thread was stopping (from another loop) fail, not hang."""
        late: list[_Job] = []
        with contextlib.suppress(queue.Empty):
            while True:
                item = self._inbox.get_nowait()
                if item is not _STOP:
                    late.extend(item)
        _fail_all(late, RuntimeError(f"{self.owner} was closed"))
        self._answer(late)

    def _collect(self, backlog: list[_Job], *, wait: bool) -> bool:
        """Move every job handed over into ``backlog`` (``wait`` for the first); True on stop."""
        try:
            item = self._inbox.get() if wait else self._inbox.get_nowait()
            while item is not _STOP:
                backlog.extend(item)
                item = self._inbox.get_nowait()
        except queue.Empty:
            return False
        return True

    def _answer(self, jobs: list[_Job]) -> None:
        """One callback per loop: ``on_commit`` calls on the opening loop, then the answers."""
        home = self.loop
        if not jobs or home is None:
            return
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {home: []}
        for job in jobs:
            by_loop.setdefault(job.loop, []).append(job)
        committed = [job for job in jobs if job.on_commit is not None and not job.failed]
        for loop, answered in by_loop.items():
            if not answered and not (loop is home and committed):
                continue
            callback = partial(_resolve, committed if loop is home else [], answered)
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(callback)


def _run_batch(conn: sqlite3.Connection, jobs: list[_Job]) -> None:
    cursor = conn.cursor()
    begin = "BEGIN IMMEDIATE" if any(job.write for job in jobs) else "BEGIN DEFERRED"
    in_transaction: list[_Job] = []
    for index, job in enumerate(jobs):
        if not conn.in_transaction:
            try:
                cursor.execute(begin)
            except Exception as exc:  # e.g. another process held the file for busy_timeout
                _fail_all(jobs[index:], exc)
                return
            in_transaction = []
        _run_job(cursor, job)
        in_transaction.append(job)
        if not conn.in_transaction:
            # The whole transaction was rolled back (some errors do that), earlier jobs' too.
            lost = job.outcome if job.failed else sqlite3.OperationalError("rolled back")
            _fail_all(in_transaction, lost)
    if conn.in_transaction:
        try:
            cursor.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                cursor.execute("ROLLBACK")
            _fail_all(in_transaction, exc)


def _run_job(cursor: sqlite3.Cursor, job: _Job) -> None:
    if not job.write:
        try:
            job.outcome = job.work(cursor)
        except BaseException as exc:
            job.fail(exc)
        return
    cursor.execute("SAVEPOINT job")
    try:
        job.outcome = job.work(cursor)
    except BaseException as exc:
        job.fail(exc)
        if cursor.connection.in_transaction:
            cursor.execute("ROLLBACK TO job")
    if cursor.connection.in_transaction:
        cursor.execute("RELEASE job")


def _fail_all(jobs: list[_Job], error: BaseException) -> None:
    for job in jobs:
        if not job.failed:
            job.fail(error)


def _resolve(committed: list[_Job], answered: list[_Job]) -> None:
    for job in committed:
        assert job.on_commit is not None
        try:
            job.on_commit(job.outcome)
        except Exception:
            log.exception("a callback after an SQLite commit failed")
    for job in answered:
        if job.future.done():  # its caller was cancelled
            continue
        if job.failed:
            job.future.set_exception(job.outcome)
        else:
            job.future.set_result(job.outcome)


def _settle_one(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class SQLiteBackend:
    """A backend in the SQLite file at ``path``, driven by a ``SQLiteThread``.

    ``open()`` creates the subclass's ``schema``; ``path`` may be ``":memory:"``. Backends
    built with the same ``thread`` share its connection and commit together.
    """

    schema: ClassVar[str]

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        thread: SQLiteThread | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.thread = thread or SQLiteThread(repr(self), self.path, busy_timeout)
        self._opened = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    async def open(self) -> None:
        if self._opened:
            return
        await self.thread.open()
        self._opened = True
        try:
            await self.thread.run(partial(run_schema, self.schema), write=True)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        if not self._opened:
            return
        self._opened = False
        await self.thread.close()
