"""What only a file-backed store promises: persistence and sharing between processes."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

from motia.backends import SQLiteStore

pytestmark = pytest.mark.anyio

PROJECT_ROOT = Path(__file__).resolve().parent.parent

INCREMENTS_SCRIPT = """
import asyncio, sys
from motia.backends import SQLiteStore

async def main(path, count):
    async with SQLiteStore(path) as store:
        print("ready", flush=True)
        sys.stdin.readline()
        increment = [{"type": "increment", "path": "n", "by": 1}]
        for _ in range(count):
            await store.update("state", "g", "counter", increment)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""

WRITE_THEN_HANG_SCRIPT = """
import asyncio, sys
from motia.backends import SQLiteStore

async def main(path):
    async with SQLiteStore(path) as store:
        for index in range(1000):
            await store.set("state", "g", f"k{index}", {"index": index})
            print(index, flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1]))
"""


def child_env() -> dict[str, str]:
    pythonpath = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": pythonpath}


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )


async def read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    with anyio.fail_after(20):
        line = await anyio.to_thread.run_sync(process.stdout.readline, abandon_on_cancel=True)
    assert line, f"child exited early with code {process.poll()}"
    return line.strip()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / ".motia" / "motia.db"


async def test_open_creates_the_parent_folder_and_tables(db_path):
    async with SQLiteStore(db_path):
        pass
    assert db_path.exists()
    with sqlite3.connect(db_path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert {"items", "meta"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_the_folder_and_the_files_it_makes_are_for_the_owner_only(db_path):
    async with SQLiteStore(db_path) as store:
        await store.set("state", "g", "k", {"secret": 1})
        wal = db_path.with_name(db_path.name + "-wal")
        modes = [path.stat().st_mode & 0o777 for path in (db_path.parent, db_path, wal)]
    assert modes == [0o700, 0o600, 0o600]


async def test_use_before_open_is_a_clear_error(db_path):
    with pytest.raises(RuntimeError, match="not open"):
        await SQLiteStore(db_path).get("state", "g", "k")


async def test_values_order_and_versions_survive_reopening(db_path):
    async with SQLiteStore(db_path) as store:
        await store.set("state", "g", "b", {"v": 1})
        last = await store.set("state", "g", "a", [1, "two"])
    async with SQLiteStore(db_path) as store:
        assert await store.list("state", "g") == [("b", {"v": 1}), ("a", [1, "two"])]
        change = await store.set("state", "g", "c", None)
        assert change.version > last.version


async def test_two_stores_on_one_file_share_writes_and_count_every_increment(db_path):
    async with SQLiteStore(db_path) as first, SQLiteStore(db_path) as second:
        await first.set("state", "g", "k", {"from": "first"})
        assert await second.get("state", "g", "k") == {"from": "first"}

        async def increment(store: SQLiteStore) -> None:
            await store.update("state", "g", "n", [{"type": "increment", "path": "", "by": 1}])

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for index in range(100):
                    tg.start_soon(increment, first if index % 2 else second)
        assert await first.get("state", "g", "n") == 100
        assert await second.get("state", "g", "n") == 100


async def test_another_connection_can_write_its_own_tables_meanwhile(db_path):
    async with SQLiteStore(db_path) as store:
        await store.set("state", "g", "k", 1)
        with sqlite3.connect(db_path, timeout=5) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS queue_jobs (id INTEGER PRIMARY KEY)")
            conn.execute("INSERT INTO queue_jobs DEFAULT VALUES")
        await store.set("state", "g", "k", 2)
        assert await store.get("state", "g", "k") == 2


@pytest.mark.slow
async def test_increments_from_another_process_add_up(db_path):
    async with SQLiteStore(db_path) as store:
        child = spawn(INCREMENTS_SCRIPT, str(db_path), "200")
        try:
            assert await read_line(child) == "ready"
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
            for _ in range(200):
                await store.update(
                    "state", "g", "counter", [{"type": "increment", "path": "n", "by": 1}]
                )
            with anyio.fail_after(30):
                code = await anyio.to_thread.run_sync(child.wait, abandon_on_cancel=True)
            assert code == 0
        finally:
            child.kill()
            child.wait()
        assert await store.get("state", "g", "counter") == {"n": 400}


@pytest.mark.slow
async def test_a_returned_write_survives_kill_9(db_path):
    child = spawn(WRITE_THEN_HANG_SCRIPT, str(db_path))
    try:
        written = [int(await read_line(child)) for _ in range(20)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    async with SQLiteStore(db_path) as store:
        for index in written:
            assert await store.get("state", "g", f"k{index}") == {"index": index}


async def test_a_cancelled_caller_still_gets_its_committed_write_published(db_path):
    async with SQLiteStore(db_path) as store:
        published = []
        store.feed.subscribe(published.append)
        for index in range(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.set, "state", "g", f"k{index}", index)
                for _ in range(index % 4):
                    await anyio.sleep(0)
                tg.cancel_scope.cancel()
        await store.set("state", "g", "last", True)  # the worker runs writes in order
        with anyio.fail_after(5):
            while published[-1].item_id != "last":
                await anyio.sleep(0.005)
        stored = {key for key, _ in await store.list("state", "g")}
        assert {change.item_id for change in published} == stored
        assert len(published) == len(stored)
