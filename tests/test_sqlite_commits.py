"""The SQLite thread commits the writes of concurrent callers together, each answered alone."""

import asyncio
import signal
import sqlite3
import threading
from pathlib import Path

import anyio
import pytest
from test_sqlite_store import read_line, spawn

from motia.backends import SQLiteStore
from motia.backends.sqlite_queue import SQLiteQueue
from motia.backends.sqlite_thread import MAX_BATCH, SQLiteThread

pytestmark = pytest.mark.anyio

CONCURRENT_WRITES_THEN_HANG_SCRIPT = """
import asyncio, sys
from motia.backends import SQLiteStore

async def write(store, index):
    await store.set("state", "g", f"k{index}", {"index": index})
    print(index, flush=True)

async def main(path):
    async with SQLiteStore(path) as store:
        for start in range(0, 5000, 50):
            await asyncio.gather(*(write(store, index) for index in range(start, start + 50)))
        await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "motia.db"


@pytest.fixture
async def thread(db_path: Path):
    thread = SQLiteThread("test", db_path, busy_timeout=5)
    await thread.open()
    await thread.run(lambda c: c.execute("CREATE TABLE t (k TEXT PRIMARY KEY)"), write=True)
    try:
        yield thread
    finally:
        await thread.close()


def insert(key: str):
    def work(cursor: sqlite3.Cursor) -> str:
        cursor.execute("INSERT INTO t (k) VALUES (?)", (key,))
        return key

    return work


async def in_one_batch(thread: SQLiteThread, works) -> list:
    """Run ``works`` so that the thread takes them all at once: a first job holds it
    until every caller has handed its work over."""
    handed_over = threading.Event()
    holder = asyncio.ensure_future(thread.run(lambda c: handed_over.wait(10), write=True))
    callers = [asyncio.ensure_future(thread.run(work, write=True)) for work in works]
    await asyncio.sleep(0)  # each caller runs up to its await: its job is queued
    handed_over.set()
    with anyio.fail_after(10):
        results = await asyncio.gather(holder, *callers, return_exceptions=True)
    return results[1:]


def keys_in(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {key for (key,) in conn.execute("SELECT k FROM t")}


async def test_jobs_taken_together_commit_together(thread, db_path):
    seen_by_others = []

    def insert_and_look(key: str, earlier: str | None):
        def work(cursor: sqlite3.Cursor) -> None:
            cursor.execute("INSERT INTO t (k) VALUES (?)", (key,))
            if earlier is not None:
                seen_by_others.append(earlier in keys_in(db_path))

        return work

    works = [insert_and_look(f"k{i}", f"k{i - 1}" if i else None) for i in range(20)]
    assert await in_one_batch(thread, works) == [None] * 20
    # Another connection saw none of the batch before its one commit, and all of it after.
    assert seen_by_others == [False] * 19
    assert keys_in(db_path) == {f"k{i}" for i in range(20)}


async def test_writes_started_in_one_turn_of_the_loop_commit_together(thread, db_path):
    def insert_and_look(key: str):
        def work(cursor: sqlite3.Cursor) -> tuple[bool, int]:
            cursor.execute("INSERT INTO t (k) VALUES (?)", (key,))
            return key in keys_in(db_path), len(cursor.execute("SELECT k FROM t").fetchall())

        return work

    with anyio.fail_after(10):
        results = await asyncio.gather(
            *(thread.run(insert_and_look(f"k{i}"), write=True) for i in range(20))
        )
    # Each saw the ones before it in its own transaction, none of them committed yet.
    assert results == [(False, i + 1) for i in range(20)]
    assert keys_in(db_path) == {f"k{i}" for i in range(20)}


async def test_a_failing_write_fails_only_its_caller(thread, db_path):
    def insert_then_fail(cursor: sqlite3.Cursor) -> None:
        cursor.execute("INSERT INTO t (k) VALUES ('doomed')")
        raise ValueError("no")

    works = [insert("a"), insert_then_fail, insert("b"), insert("a"), insert("c")]
    results = await in_one_batch(thread, works)
    assert results[0] == "a" and results[2] == "b" and results[4] == "c"
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], sqlite3.IntegrityError)  # "a" was taken earlier in the batch
    assert keys_in(db_path) == {"a", "b", "c"}


async def test_a_write_that_loses_the_transaction_fails_the_writes_it_took_along(thread, db_path):
    def roll_back(cursor: sqlite3.Cursor) -> None:
        cursor.execute("INSERT INTO t (k) VALUES ('lost')")
        cursor.execute("ROLLBACK")

    results = await in_one_batch(thread, [insert("before"), roll_back, insert("after")])
    assert isinstance(results[0], sqlite3.OperationalError)
    assert isinstance(results[1], sqlite3.OperationalError)
    assert results[2] == "after"
    assert keys_in(db_path) == {"after"}


async def test_more_callers_than_one_batch_all_get_their_own_result(db_path):
    async with SQLiteStore(db_path) as store:
        increment = [{"type": "increment", "path": "n", "by": 1}]
        with anyio.fail_after(30):
            changes = await asyncio.gather(
                *(store.update("state", "g", "counter", increment) for _ in range(3 * MAX_BATCH))
            )
        totals = sorted(change.new_value["n"] for change in changes)
        assert totals == list(range(1, 3 * MAX_BATCH + 1))
        assert len({change.version for change in changes}) == 3 * MAX_BATCH


async def test_a_failing_update_among_concurrent_ones_fails_alone(db_path):
    async with SQLiteStore(db_path) as store:
        await store.set("state", "g", "text", "not a number")
        increment = [{"type": "increment", "path": "n", "by": 1}]
        with anyio.fail_after(30):
            results = await asyncio.gather(
                *(store.update("state", "g", "counter", increment) for _ in range(50)),
                store.update("state", "g", "text", [{"type": "increment", "path": "n", "by": 1}]),
                *(store.update("state", "g", "counter", increment) for _ in range(50)),
                return_exceptions=True,
            )
        assert sum(isinstance(result, Exception) for result in results) == 1
        assert isinstance(results[50], Exception)
        assert await store.get("state", "g", "counter") == {"n": 100}
        assert await store.get("state", "g", "text") == "not a number"


async def test_an_answered_write_is_committed_for_other_connections(db_path):
    async with SQLiteStore(db_path) as store:

        async def write_then_look(index: int) -> bool:
            await store.set("state", "g", f"k{index}", index)
            with sqlite3.connect(db_path) as conn:
                row = conn.execute("SELECT value FROM items WHERE item_id = ?", (f"k{index}",))
                return row.fetchone() == (str(index),)

        with anyio.fail_after(30):
            assert all(await asyncio.gather(*(write_then_look(index) for index in range(100))))


@pytest.mark.slow
async def test_concurrent_answered_writes_survive_kill_9(db_path):
    child = spawn(CONCURRENT_WRITES_THEN_HANG_SCRIPT, str(db_path))
    try:
        answered = [int(await read_line(child)) for _ in range(300)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    async with SQLiteStore(db_path) as store:
        stored = {item_id for item_id, _ in await store.list("state", "g")}
    assert {f"k{index}" for index in answered} <= stored


async def test_the_queue_beside_a_store_shares_its_thread_until_both_close(db_path):
    store = SQLiteStore(db_path)
    queue = SQLiteQueue.beside(store)
    assert queue.thread is store.thread
    await store.open()
    await queue.open()
    await queue.close()
    await store.set("state", "g", "k", 1)  # the store's thread outlives the queue
    assert await store.get("state", "g", "k") == 1
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("state", "g", "k")
