"""Commands issued together go to Redis together, and each caller still gets its own answer."""

from __future__ import annotations

import asyncio
import uuid

import anyio
import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis_support import DisposableRedisStore, free_port, redis_url, require_redis

from motia.backends.base import Change
from motia.backends.redis_batch import MAX_BATCH, CommandBatcher
from motia.backends.redis_client import connect
from motia.backends.redis_updates import Item, Stale, UpdateBatcher
from motia.exceptions import InvalidUpdateOp

pytestmark = pytest.mark.anyio

NS = "state"
INCREMENT = [{"type": "increment", "path": "n", "by": 1}]


@pytest.fixture
async def client():
    require_redis()
    opened = redis.asyncio.Redis.from_url(redis_url(), decode_responses=True)
    yield opened
    await opened.aclose()


async def test_the_commands_of_one_turn_go_in_one_pipeline_each_caller_gets_its_reply(
    client,
) -> None:
    batcher = CommandBatcher(client, {})
    with anyio.fail_after(10):
        replies = await asyncio.gather(*(batcher.command("ECHO", f"m{i}") for i in range(50)))
    assert replies == [f"m{i}" for i in range(50)]
    assert batcher.pipelines == 1


async def test_a_turn_with_more_than_a_pipeline_holds_goes_in_several(client) -> None:
    batcher = CommandBatcher(client, {})
    count = 2 * MAX_BATCH + 1
    with anyio.fail_after(10):
        replies = await asyncio.gather(*(batcher.command("ECHO", f"m{i}") for i in range(count)))
    assert replies == [f"m{i}" for i in range(count)]
    assert batcher.pipelines == 3


async def test_an_error_reply_fails_only_its_own_caller(client) -> None:
    key = f"motia-test:{uuid.uuid4().hex}"
    await client.set(key, "not a number")
    try:
        batcher = CommandBatcher(client, {})
        with anyio.fail_after(10):
            replies = await asyncio.gather(
                batcher.command("ECHO", "before"),
                batcher.command("INCR", key),
                batcher.command("ECHO", "after"),
                return_exceptions=True,
            )
    finally:
        await client.delete(key)
    assert replies[0] == "before" and replies[2] == "after"
    assert isinstance(replies[1], ResponseError)
    assert batcher.pipelines == 1


async def test_a_script_redis_lacks_is_loaded_and_every_caller_gets_its_reply(client) -> None:
    marker = uuid.uuid4().hex  # a text no Redis has run before, so the first EVALSHA misses
    batcher = CommandBatcher(client, {"TAG": f"return ARGV[1] .. '{marker}'"})
    with anyio.fail_after(10):
        replies = await asyncio.gather(*(batcher.script("TAG", [], [f"a{i}"]) for i in range(5)))
    assert replies == [f"a{i}{marker}" for i in range(5)]
    assert await batcher.script("TAG", [], ["b"]) == f"b{marker}"


async def test_a_lost_connection_fails_every_caller_of_its_pipeline_with_its_own_error() -> None:
    client = connect(f"redis://127.0.0.1:{free_port()}/0", 1.0, "motia-test")
    batcher = CommandBatcher(client, {})
    try:
        with anyio.fail_after(10):
            replies = await asyncio.gather(
                *(batcher.command("ECHO", "x") for _ in range(3)), return_exceptions=True
            )
    finally:
        await client.aclose()
    assert all(isinstance(reply, RedisConnectionError) for reply in replies)
    assert len({id(reply) for reply in replies}) == 3


async def test_closing_gives_up_on_a_redis_that_never_answers() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads every command, answers none, until the client goes
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = connect(f"redis://127.0.0.1:{port}/0", 1.0, "motia-test")
    batcher = CommandBatcher(client, {})
    try:
        with anyio.fail_after(10):
            reply = asyncio.ensure_future(batcher.command("ECHO", "x"))
            await asyncio.sleep(0.1)  # on its way, never answered
            await batcher.aclose(grace=0.1)
            with pytest.raises(ConnectionError):
                await reply
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_concurrent_updates_of_one_item_are_each_a_change_of_their_own() -> None:
    require_redis()
    async with DisposableRedisStore() as store:
        seen: list[Change] = []
        store.feed.subscribe(lambda m: seen.append(m) if isinstance(m, Change) else None)
        await store.set(NS, "g", "counter", {"n": 0})
        bad = [{"type": "increment", "path": "n", "by": "one"}]
        calls = [store.update(NS, "g", "counter", bad if i == 3 else INCREMENT) for i in range(8)]
        pipelines = store.batch.pipelines
        with anyio.fail_after(10):
            results = await asyncio.gather(*calls, return_exceptions=True)
        # One read and one write for the lot.
        assert store.batch.pipelines - pipelines == 2
        assert isinstance(results[3], InvalidUpdateOp)
        changes = [r for r in results if isinstance(r, Change)]
        assert [c.new_value for c in changes] == [{"n": n} for n in range(1, 8)]
        assert [c.old_value for c in changes] == [{"n": n} for n in range(7)]
        assert [c.version for c in changes] == list(range(2, 9))
        assert seen[1:] == changes
        assert await store.get(NS, "g", "counter") == {"n": 7}


class FakeItem:
    """An item for ``UpdateBatcher`` that another process changes before or after a write."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.version = 0
        self.reads = 0
        self.writes: list[list[str]] = []
        self.before_write: list[str] = []
        self.after_write: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def read(self, item: Item) -> str | None:
        self.reads += 1
        return self.text

    async def write(self, item: Item, expected: str | None, texts: list[str]) -> int | Stale:
        await self.gate.wait()
        self._elsewhere(self.before_write)
        if expected != self.text:
            return Stale(self.text)
        self.writes.append(texts)
        self.text = texts[-1]
        self.version += len(texts)
        written = self.version
        self._elsewhere(self.after_write)
        return written

    def _elsewhere(self, texts: list[str]) -> None:
        if texts:
            self.text = texts.pop()
            self.version += 1


ITEM = (NS, "g", "k")


async def test_updates_applied_to_a_stale_item_are_applied_again_to_the_current_one() -> None:
    item = FakeItem('{"n":0}')
    item.before_write = ['{"n":10}']
    updates = UpdateBatcher(item.read, item.write)
    with anyio.fail_after(10):
        changes = await asyncio.gather(*(updates.update(ITEM, INCREMENT, None) for _ in range(3)))
    assert [c.new_value for c in changes] == [{"n": 11}, {"n": 12}, {"n": 13}]
    assert [c.old_value for c in changes] == [{"n": 10}, {"n": 11}, {"n": 12}]
    assert [c.version for c in changes] == [2, 3, 4]
    assert item.writes == [['{"n":11}', '{"n":12}', '{"n":13}']]


async def test_an_update_failing_on_the_remembered_item_is_tried_on_a_fresh_read() -> None:
    item = FakeItem('{"n":0}')
    item.after_write = ['{"n":5}']  # another process writes right after the first update
    item.gate.clear()
    updates = UpdateBatcher(item.read, item.write)

    def at_least_five(value):
        if value["n"] < 5:
            raise ValueError("below five")
        return value

    with anyio.fail_after(10):
        first = asyncio.ensure_future(updates.update(ITEM, INCREMENT, None))
        while not item.reads:  # the first is read and waits to be written ...
            await asyncio.sleep(0)
        second = asyncio.ensure_future(updates.update(ITEM, INCREMENT, at_least_five))
        item.gate.set()
        assert (await first).new_value == {"n": 1}
        # ... the second fails on the {"n": 1} written last, but not on the item as it is now.
        assert (await second).new_value == {"n": 6}
    assert item.reads == 2


async def test_an_update_failing_on_a_fresh_read_fails() -> None:
    item = FakeItem('{"n":0}')
    updates = UpdateBatcher(item.read, item.write)

    def refuse(value):
        raise ValueError("refused")

    with anyio.fail_after(10), pytest.raises(ValueError, match="refused"):
        await updates.update(ITEM, INCREMENT, refuse)
    assert item.writes == [] and item.reads == 1
