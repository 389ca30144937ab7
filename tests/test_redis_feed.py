"""Change fan-out between processes over Redis pub/sub, and its recovery after a lost link."""

from __future__ import annotations

import anyio
import pytest
from redis_support import (
    DisposableRedisStore,
    kill_feed_connection,
    private_redis,
    require_redis,
    unique_prefix,
)

from motia.backends import Change, Ephemeral
from motia.backends.base import FeedMessage, Resync
from motia.backends.redis import RedisStore
from motia.backends.redis_feed import decode_message, encode_ephemeral

pytestmark = pytest.mark.anyio

NS = "stream:todo"
SENTINEL = Ephemeral(NS, "sentinel", None, "sentinel", None)


class Recorder:
    def __init__(self, store: RedisStore) -> None:
        self.messages: list[FeedMessage] = []
        store.feed.subscribe(self.messages.append)

    def of(self, kind: type) -> list[FeedMessage]:
        return [message for message in self.messages if isinstance(message, kind)]

    async def wait_until(self, predicate, seconds: float = 10) -> None:
        with anyio.fail_after(seconds):
            while not predicate(self):
                await anyio.sleep(0.01)


async def settled(publisher: RedisStore, *recorders: Recorder) -> list[list[FeedMessage]]:
    """What each recorder received before a sentinel ``publisher`` sends after everything.

    Redis delivers one channel's messages in order, so a late duplicate would come first.
    """
    await publisher.publish(SENTINEL)
    for recorder in recorders:
        await recorder.wait_until(lambda r: SENTINEL in r.messages)
    return [r.messages[: r.messages.index(SENTINEL)] for r in recorders]


@pytest.fixture
async def pair():
    """Two stores on one Redis and prefix: two processes of one app."""
    require_redis()
    prefix = unique_prefix()
    async with (
        DisposableRedisStore(prefix=prefix) as first,
        RedisStore(first.url, prefix=prefix) as second,
    ):
        yield first, second


def test_wire_format_round_trips() -> None:
    event = Ephemeral(NS, "g:1", "a\nb", "typing", {"é": [1, None]})
    assert decode_message(encode_ephemeral(event)) == event
    text = 'update\n7\n["ns","g","i"]\n{"a":1}\n{"a":2}'
    assert decode_message(text) == Change("ns", "g", "i", "update", {"a": 1}, {"a": 2}, 7)


async def test_every_store_gets_every_change_exactly_once_in_order(pair) -> None:
    first, second = pair
    seen = [Recorder(first), Recorder(second)]
    written = [
        await first.set(NS, "g", "a", {"n": 1}),
        await second.update(NS, "g", "a", [{"type": "increment", "path": "n", "by": 1}]),
        await second.set(NS, "g", "b", {"n": 1}),
        await first.delete(NS, "g", "a"),
        *await second.clear(NS, "g"),
    ]
    assert await settled(first, *seen) == [written, written]


async def test_a_write_returns_after_its_own_process_saw_it(pair) -> None:
    first, _ = pair
    recorder = Recorder(first)
    change = await first.set(NS, "g", "a", 1)
    assert recorder.messages == [change]


async def test_ephemeral_events_reach_every_store_once(pair) -> None:
    first, second = pair
    seen = [Recorder(first), Recorder(second)]
    event = Ephemeral(NS, "g", None, "typing", {"user": "u"})
    await second.publish(event)
    assert await settled(second, *seen) == [[event], [event]]


async def test_concurrent_increments_from_two_stores_are_all_counted(pair) -> None:
    first, second = pair

    async def increment(store: RedisStore) -> None:
        await store.update(NS, "g", "counter", [{"type": "increment", "path": "n", "by": 1}])

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for index in range(200):
                tg.start_soon(increment, (first, second)[index % 2])
    assert await first.get(NS, "g", "counter") == {"n": 200}


async def test_killed_feed_connection_resyncs_then_delivers_again(pair) -> None:
    first, second = pair
    recorder = Recorder(first)
    await kill_feed_connection(first)
    await recorder.wait_until(lambda r: r.of(Resync))
    change = await second.set(NS, "g", "after", {"ok": True})
    [messages] = await settled(second, recorder)
    assert [m for m in messages if isinstance(m, Change)] == [change]
    assert len([m for m in messages if isinstance(m, Resync)]) == 1
    assert first.listening


@pytest.mark.slow
async def test_restarted_redis_resyncs_and_versions_may_restart() -> None:
    with private_redis() as server:
        async with RedisStore(server.url, prefix="p:", ping_interval=0.5) as store:
            recorder = Recorder(store)
            await store.set(NS, "g", "a", 1)
            await store.set(NS, "g", "b", 2)
            server.stop()
            with anyio.fail_after(10):
                while await store.ping():
                    await anyio.sleep(0.05)
            server.start()  # empty: it kept nothing, so versions start again at 1
            await recorder.wait_until(lambda r: r.of(Resync))
            change = await store.set(NS, "g", "c", 3)
            assert change.version == 1
            await recorder.wait_until(lambda r: len(r.of(Change)) == 3)
            assert recorder.of(Change)[-1] == change
            with anyio.fail_after(5):
                while not await store.ping():
                    await anyio.sleep(0.05)


@pytest.mark.slow
async def test_open_fails_clearly_when_redis_is_unreachable() -> None:
    with private_redis() as server:
        url = server.url
    store = RedisStore(url, ping_interval=0.5)
    with pytest.raises(ConnectionError, match="cannot reach Redis"):
        await store.open()
    await store.close()
