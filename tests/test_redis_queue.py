"""The Redis queue shared by several apps: exactly once, leases, FIFO, dead letters, stats.

Two apps (or two ``RedisQueue`` instances) on one prefix stand for two
processes; the last tests run real ``motia start`` processes and kill one.
The behaviour shared with the other queues is tested in ``test_queue.py``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import redis
from redis_support import Servers, free_port, redis_url, require_redis, unique_prefix

from motia import Motia, QueueConfig, queue, step
from motia.backends.queue import Delivery, Subscriber
from motia.backends.redis import RedisStore
from motia.backends.redis_queue import RedisQueue
from motia.exceptions import NonRetryableError

pytestmark = pytest.mark.anyio


class DisposableRedisQueue(RedisQueue):
    """A RedisQueue whose keys are deleted when it closes."""

    async def close(self) -> None:
        if self._client is not None:
            await self.purge()
        await super().close()


def disposable_queues() -> Callable[[], RedisQueue]:
    """New queues under a fresh prefix, each deleting its keys when it closes."""
    require_redis()
    prefix = unique_prefix()
    return lambda: DisposableRedisQueue(redis_url(), prefix=prefix)


@pytest.fixture
def prefix() -> Iterator[str]:
    require_redis()
    chosen = unique_prefix()
    yield chosen
    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(match=chosen + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@asynccontextmanager
async def queues(prefix: str, count: int = 2) -> AsyncIterator[list[RedisQueue]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(RedisQueue(redis_url(), prefix=prefix))
            for _ in range(count)
        ]


@asynccontextmanager
async def apps(
    prefix: str, *steps: Any, count: int = 2, idle_poll: float | None = None
) -> AsyncIterator[list[Motia]]:
    """``count`` apps with the same steps on one Redis queue: one per "process"."""
    async with AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            motia = Motia(
                None, steps=steps, store="memory", queue=RedisQueue(redis_url(), prefix=prefix)
            )
            for worker in motia.runtime.queues.workers:
                worker.idle_poll = idle_poll or worker.idle_poll
            app = motia.asgi()
            await stack.enter_async_context(app.router.lifespan_context(app))
            started.append(motia)
        yield started


def work_step(handler: Any, name: str = "Work", **config: Any) -> Any:
    options = {"backoff_type": "fixed", "backoff_delay_ms": 10, **config}
    trigger = queue("work", config=QueueConfig(**options))
    return step({"name": name, "triggers": [trigger]}, handler)


def delivery(subscriber: Subscriber, n: int, *, topic: str = "t", group: str | None = None,
             delay: float = 0.0) -> Delivery:  # fmt: skip
    return Delivery(
        id=uuid.uuid4().hex,
        message_id=f"m{n}",
        topic=topic,
        subscriber=subscriber,
        data={"n": n, "empty": [], "text": "é"},
        trace_id="trace",
        group_id=group,
        available_at=time.time() + delay,
    )


async def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> None:
    with anyio.fail_after(timeout):
        while not check():
            await asyncio.sleep(0.01)


# --- two apps on one Redis --------------------------------------------------------------------


async def test_a_thousand_messages_from_two_apps_are_each_handled_once(prefix: str) -> None:
    handled: list[tuple[int, int]] = []

    def recorder(app: int) -> Any:
        async def handler(data: Any) -> None:
            handled.append((app, data["n"]))

        return handler

    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(apps(prefix, work_step(recorder(0)), count=1))
        second = await stack.enter_async_context(apps(prefix, work_step(recorder(1)), count=1))
        senders = [first[0], second[0]]
        await asyncio.gather(
            *(
                senders[n % 2].runtime.enqueue({"topic": "work", "data": {"n": n}})
                for n in range(1000)
            )
        )
        await wait_until(lambda: len(handled) >= 1000)
        with anyio.fail_after(20):  # drained: no message waits or runs, so none runs again
            while await first[0].runtime.queues.stats():
                await asyncio.sleep(0.01)
    counts = collections.Counter(n for _, n in handled)
    assert sorted(counts) == list(range(1000))
    assert set(counts.values()) == {1}
    assert {app for app, _ in handled} == {0, 1}


async def test_an_idle_app_takes_at_once_what_a_busy_one_cannot(prefix: str) -> None:
    """The busy app runs one message at a time; the next one it enqueues is claimed by
    the idle app, which hears of it, long before its next poll."""
    release = asyncio.Event()
    handled: list[tuple[int, int]] = []

    def recorder(app: int) -> Any:
        async def handler(data: Any) -> None:
            handled.append((app, data["n"]))
            if data["n"] == 0:
                await release.wait()

        return handler

    async with AsyncExitStack() as stack:
        [busy] = await stack.enter_async_context(
            apps(prefix, work_step(recorder(0), concurrency=1), count=1, idle_poll=30)
        )
        await busy.runtime.enqueue({"topic": "work", "data": {"n": 0}})
        await wait_until(lambda: handled == [(0, 0)])
        [idle] = await stack.enter_async_context(
            apps(prefix, work_step(recorder(1), concurrency=1), count=1, idle_poll=30)
        )
        channel = idle.runtime.queues.backend.ready_channel  # type: ignore[attr-defined]
        client = redis.Redis.from_url(redis_url())
        await wait_until(lambda: client.pubsub_numsub(channel)[0][1] == 2)
        client.close()
        await busy.runtime.enqueue({"topic": "work", "data": {"n": 1}})
        await wait_until(lambda: len(handled) == 2, timeout=3)
        release.set()
    assert handled == [(0, 0), (1, 1)]


async def test_a_queue_hears_what_others_make_ready_while_nothing_was(prefix: str) -> None:
    sub = Subscriber("Work", 0)
    heard: dict[str, list[Subscriber | None]] = {"one": [], "two": []}
    async with queues(prefix) as (one, two):
        watching = [
            asyncio.create_task(queue.watch(heard[name].append))
            for name, queue in (("one", one), ("two", two))
        ]
        await wait_until(lambda: heard == {"one": [None], "two": [None]})  # listening
        await one.push([delivery(sub, 1)])
        await one.push([delivery(sub, 2)])  # one was ready already: no news
        await one.push([delivery(sub, 3, delay=60)])  # not ready: no news
        await wait_until(lambda: len(heard["two"]) == 2)
        for held in await two.claim(sub, limit=5, lease=30, fifo=False):
            await two.ack(held)
        await two.push([delivery(sub, 4)])
        await wait_until(lambda: len(heard["one"]) == 2)
        await asyncio.sleep(0.2)  # anything more would have come by now
        for task in watching:
            task.cancel()
        await asyncio.gather(*watching, return_exceptions=True)
    assert heard == {"one": [None, sub], "two": [None, sub]}


async def test_a_delivery_held_by_a_dead_consumer_is_redelivered_after_its_lease(
    prefix: str,
) -> None:
    sub = Subscriber("Work", 0)
    async with queues(prefix) as (dead, alive):
        await dead.push([delivery(sub, 1)])
        [held] = await dead.claim(sub, limit=5, lease=0.3, fifo=False)
        assert await alive.claim(sub, limit=5, lease=0.3, fifo=False) == []
        due = await alive.next_due(sub, fifo=False)
        assert due is not None and 0 < due - time.time() <= 0.3
        await asyncio.sleep(due - time.time() + 0.01)
        [again] = await alive.claim(sub, limit=5, lease=30, fifo=False)
        assert (again.id, again.attempts, again.data) == (held.id, 2, held.data)
        await dead.ack(held)  # too late: the delivery belongs to its new holder
        assert await alive.stats() == {"t": {"depth": 0, "in_flight": 1, "retries": 1}}
        await alive.ack(again)
        assert await alive.stats() == {}
        assert await alive.next_due(sub, fifo=False) is None


async def test_a_handler_that_never_finishes_elsewhere_is_run_again_here(prefix: str) -> None:
    sub = Subscriber("Work", 0)
    done: list[Any] = []

    async def handler(data: Any) -> None:
        done.append(data)

    async with queues(prefix, count=1) as (dead,):
        # The lease a worker of this step takes (visibility timeout + 1s), held by a dead one.
        await dead.push([delivery(sub, 7, topic="work")])
        [_] = await dead.claim(sub, limit=1, lease=1.2, fifo=False)
        started = time.monotonic()
        async with apps(prefix, work_step(handler, visibility_timeout=0.2), count=1):
            await wait_until(lambda: done)
    assert done == [{"n": 7, "empty": [], "text": "é"}]
    assert time.monotonic() - started >= 1.0


async def test_fifo_order_per_group_holds_across_two_consumers(prefix: str) -> None:
    seen: dict[str, list[int]] = {group: [] for group in "abc"}
    active: collections.Counter[str] = collections.Counter()
    overlaps: list[str] = []

    async def handler(data: Any) -> None:
        group = data["group"]
        active[group] += 1
        if active[group] > 1:
            overlaps.append(group)
        await asyncio.sleep(random.uniform(0, 0.005))
        seen[group].append(data["n"])
        active[group] -= 1

    fifo = work_step(handler, type="fifo", concurrency=4)
    async with apps(prefix, fifo) as both:
        for n in range(15):
            for index, group in enumerate("abc"):
                event = {"topic": "work", "data": {"group": group, "n": n}, "messageGroupId": group}
                await both[(n + index) % 2].runtime.enqueue(event)
        await wait_until(lambda: sum(map(len, seen.values())) == 45)
    assert seen == {group: list(range(15)) for group in "abc"}
    assert overlaps == []


async def test_fifo_claims_only_the_oldest_of_a_group_until_it_is_done(prefix: str) -> None:
    sub = Subscriber("Ordered", 0)
    async with queues(prefix) as (one, two):
        pushed = [delivery(sub, n, group="g") for n in range(3)]
        for item in pushed:
            await one.push([item])
        [first] = await one.claim(sub, limit=5, lease=30, fifo=True)
        assert first.id == pushed[0].id
        assert await two.claim(sub, limit=5, lease=30, fifo=True) == []
        assert await two.stats() == {"t": {"depth": 2, "in_flight": 1, "retries": 0}}
        await one.retry(first, at=time.time() + 0.05, error="boom")
        assert await two.claim(sub, limit=5, lease=30, fifo=True) == []
        await asyncio.sleep(0.06)
        [retried] = await two.claim(sub, limit=5, lease=30, fifo=True)
        assert (retried.id, retried.attempts) == (first.id, 2)
        await two.bury(retried, error="dead")
        [second] = await one.claim(sub, limit=5, lease=30, fifo=True)
        assert second.id == pushed[1].id


async def test_a_standard_subscriber_ignores_message_groups(prefix: str) -> None:
    sub = Subscriber("Standard", 0)
    async with queues(prefix, count=1) as (one,):
        # Pushed before the subscriber's first claim tells the queue it is not FIFO.
        await one.push([delivery(sub, n, group="g") for n in range(3)])
        claimed = await one.claim(sub, limit=5, lease=30, fifo=False)
        assert sorted(d.message_id for d in claimed) == ["m0", "m1", "m2"]
        await one.push([delivery(sub, 3, group="g")])
        [late] = await one.claim(sub, limit=5, lease=30, fifo=False)
        assert late.message_id == "m3"


async def test_dead_letters_from_one_app_are_listed_and_replayed_by_another(prefix: str) -> None:
    healthy: list[bool] = []
    done: list[Any] = []

    async def handler(data: Any) -> None:
        if not healthy:
            raise NonRetryableError("downstream is down")
        done.append(data)

    async with apps(prefix, work_step(handler)) as (first, second):
        message_id = await first.runtime.enqueue({"topic": "work", "data": {"n": 1}})
        with anyio.fail_after(10):
            while not (letters := await second.runtime.queues.dead_letters()):
                await asyncio.sleep(0.01)
        [letter] = letters
        assert (letter.message_id, letter.step, letter.attempts) == (message_id, "Work", 1)
        assert letter.error == "NonRetryableError: downstream is down"
        assert await second.runtime.queues.dead_letters("other") == []
        healthy.append(True)
        assert await second.runtime.queues.replay(["nope", letter.id]) == [letter.id]
        await wait_until(lambda: done)
        assert await first.runtime.queues.dead_letters() == []
        assert await first.runtime.queues.replay() == []
    assert done == [{"n": 1}]


async def test_stats_count_waiting_in_flight_and_retried_per_topic(prefix: str) -> None:
    orders, mails = Subscriber("Orders", 0), Subscriber("Mails", 1)
    async with queues(prefix, count=1) as (one,):
        await one.push([delivery(orders, n, topic="orders") for n in range(3)])
        await one.push([delivery(mails, 9, topic="mails", delay=60)])
        assert await one.stats() == {
            "orders": {"depth": 3, "in_flight": 0, "retries": 0},
            "mails": {"depth": 1, "in_flight": 0, "retries": 0},
        }
        first, second = await one.claim(orders, limit=2, lease=30, fifo=False)
        await one.retry(first, at=time.time() + 60, error="later")
        await one.bury(second, error="dead")
        assert (await one.stats())["orders"] == {"depth": 2, "in_flight": 0, "retries": 1}
        [third] = await one.claim(orders, limit=5, lease=30, fifo=False)
        assert (await one.stats())["orders"] == {"depth": 1, "in_flight": 1, "retries": 1}
        await one.ack(third)
        assert await one.claim(mails, limit=5, lease=30, fifo=False) == []
        assert 59 < (await one.next_due(mails, fifo=False) or 0) - time.time() <= 60


async def test_a_claim_that_finds_nothing_answers_the_next_due_time_too(prefix: str) -> None:
    sub = Subscriber("Work", 0)
    async with queues(prefix, count=1) as (one,):
        await one.push([delivery(sub, 1, delay=60)])
        assert await one.claim(sub, limit=5, lease=30, fifo=False) == []
        pipelines = one.batch.pipelines
        assert 59 < (await one.next_due(sub, fifo=False) or 0) - time.time() <= 60
        assert one.batch.pipelines == pipelines  # no round trip of its own
        assert await one.claim(sub, limit=5, lease=30, fifo=False) == []
        await one.push([delivery(sub, 2)])  # pushed after the claim: asked anew
        assert (await one.next_due(sub, fifo=False) or 0) <= time.time()


async def test_a_released_delivery_is_claimable_at_once_without_counting(prefix: str) -> None:
    sub = Subscriber("Work", 0)
    async with queues(prefix) as (one, two):
        await one.push([delivery(sub, 1)])
        [held] = await one.claim(sub, limit=1, lease=30, fifo=False)
        await one.release(held)
        [again] = await two.claim(sub, limit=1, lease=30, fifo=False)
        assert (again.id, again.attempts) == (held.id, 1)


async def test_keys_live_under_the_prefix_and_purge_removes_them(prefix: str) -> None:
    sub = Subscriber("Work", 0)
    async with queues(prefix, count=1) as (one,):
        await one.push([delivery(sub, 1, group="g")])
        [held] = await one.claim(sub, limit=1, lease=30, fifo=True)
        await one.bury(held, error="x")
        keys = await one.client.keys(prefix + "*")
        assert keys and all(key.startswith(prefix + "queue:") for key in keys)
        assert await one.purge() > 0
        assert await one.client.keys(prefix + "*") == []


async def test_an_unreachable_redis_fails_open_with_the_url() -> None:
    port = free_port()
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
        await RedisQueue(f"redis://127.0.0.1:{port}/0", connect_timeout=0.5).open()


def test_a_redis_store_brings_the_redis_queue(prefix: str) -> None:
    motia = Motia(None, store="redis", redis_url=redis_url(), redis_prefix=prefix)
    backend = motia.runtime.queues.backend
    assert isinstance(motia.runtime.store, RedisStore)
    assert isinstance(backend, RedisQueue)
    assert (backend.url, backend.prefix) == (redis_url(), prefix)
    url = "redis://127.0.0.1:6399/2"
    named = Motia(None, store="memory", queue="redis", redis_url=url, redis_prefix="p:")
    backend = named.runtime.queues.backend
    assert isinstance(backend, RedisQueue)
    assert (backend.url, backend.prefix) == (url, "p:")


@pytest.mark.slow
def test_the_command_line_says_when_redis_cannot_be_reached() -> None:
    command = [sys.executable, "-m", "motia", "queue", "dlq", "--redis-url"]
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot reach Redis" in result.stderr and url in result.stderr


# --- the command line -------------------------------------------------------------------------


def cli(prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "motia", "queue", *args]
    command += ["--redis-url", redis_url(), "--redis-prefix", prefix]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.mark.slow
async def test_dead_letters_are_listed_and_replayed_from_the_command_line(prefix: str) -> None:
    sub = Subscriber("Work", 0)
    async with queues(prefix, count=1) as (one,):
        await one.push([delivery(sub, 1, topic="work")])
        [held] = await one.claim(sub, limit=1, lease=30, fifo=False)
        await one.bury(held, error="boom")
        listed = await anyio.to_thread.run_sync(cli, prefix, "dlq", "--json")
        assert listed.returncode == 0, listed.stderr
        [letter] = [json.loads(line) for line in listed.stdout.splitlines()]
        assert (letter["id"], letter["topic"], letter["error"]) == (held.id, "work", "boom")
        unknown = await anyio.to_thread.run_sync(cli, prefix, "replay", "nope")
        assert unknown.returncode == 1 and "nope" in unknown.stderr
        replayed = await anyio.to_thread.run_sync(cli, prefix, "replay", "--all")
        assert replayed.returncode == 0, replayed.stderr
        assert replayed.stdout.split() == [held.id]
        assert await one.dead_letters() == []
        [again] = await one.claim(sub, limit=1, lease=30, fifo=False)
        assert (again.id, again.attempts) == (held.id, 1)


# --- real processes ---------------------------------------------------------------------------

SEND_STEP = """
from motia import http

config = {"name": "Send", "triggers": [http("POST", "/send/:topic")], "enqueues": ["work", "slow"]}


async def handler(request, ctx):
    await ctx.enqueue({"topic": request.path_params["topic"], "data": request.body})
    return {"status": 202, "body": {}}
"""

WORK_STEPS = """
import asyncio
import os

import redis.asyncio

from motia import queue

config = {
    "name": "Work",
    "triggers": [queue("work"), queue("slow", config={"visibility_timeout": 1})],
}


async def handler(data, ctx):
    client = redis.asyncio.Redis.from_url(os.environ["TEST_REDIS_URL"])
    key = os.environ["MOTIA_REDIS_PREFIX"] + "test:" + ctx.trigger.topic
    try:
        starts = await client.rpush(key + ":started", f"{data['n']} {os.getpid()}")
        if ctx.trigger.topic == "slow" and starts == 1:
            await asyncio.sleep(3600)
        await client.rpush(key + ":done", f"{data['n']} {os.getpid()}")
    finally:
        await client.aclose()
"""


class QueueServers(Servers):
    """Server processes whose queue handlers note their runs in Redis lists."""

    def __init__(self, project: Path, prefix: str) -> None:
        super().__init__(project, prefix)
        self.prefix = prefix
        self.env["TEST_REDIS_URL"] = redis_url()

    def start(self, *options: str) -> int:
        return super().start("--redis-url", redis_url(), *options)

    def records(self, topic: str, kind: str) -> list[tuple[int, int]]:
        client = redis.Redis.from_url(redis_url(), decode_responses=True)
        try:
            lines: list[str] = client.lrange(f"{self.prefix}test:{topic}:{kind}", 0, -1)  # type: ignore[assignment]
        finally:
            client.close()
        return [(int(n), int(pid)) for n, pid in (line.split() for line in lines)]

    def drained(self) -> bool:
        """Whether no message waits or runs on the servers' queue: none can run again."""
        return anyio.run(_queue_stats, self.prefix) == {}

    def wait_for(self, check: Callable[[], bool], seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up after {seconds}s")
            time.sleep(0.05)


async def _queue_stats(prefix: str) -> dict[str, dict[str, int]]:
    async with RedisQueue(redis_url(), prefix=prefix) as queue:
        return await queue.stats()


@pytest.fixture
def servers(tmp_path: Path, prefix: str) -> Iterator[QueueServers]:
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps" / "send.step.py").write_text(textwrap.dedent(SEND_STEP))
    (tmp_path / "steps" / "work.step.py").write_text(textwrap.dedent(WORK_STEPS))
    started = QueueServers(tmp_path, prefix)
    try:
        yield started
    finally:
        started.kill_all()


def started_pair(servers: QueueServers) -> list[int]:
    ports = [servers.start() for _ in range(2)]
    for port in ports:
        servers.wait_ready(port)
    return ports


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_messages_sent_to_two_server_processes_are_each_handled_once(servers: QueueServers) -> None:
    ports = started_pair(servers)
    with httpx.Client(timeout=10) as client:
        for n in range(200):
            response = client.post(f"http://127.0.0.1:{ports[n % 2]}/send/work", json={"n": n})
            assert response.status_code == 202
    servers.wait_for(lambda: len(servers.records("work", "done")) >= 200)
    servers.wait_for(servers.drained)
    done = servers.records("work", "done")
    assert sorted(n for n, _ in done) == list(range(200))
    pids = {servers.processes[port].pid for port in ports}
    assert {pid for _, pid in done} == pids


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_message_whose_process_is_killed_mid_handler_is_redelivered_to_the_other(
    servers: Servers,
) -> None:
    ports = started_pair(servers)
    response = httpx.post(f"http://127.0.0.1:{ports[0]}/send/slow", json={"n": 1}, timeout=10)
    assert response.status_code == 202
    servers.wait_for(lambda: len(servers.records("slow", "started")) == 1)
    [(_, holder)] = servers.records("slow", "started")
    victim = next(port for port in ports if servers.processes[port].pid == holder)
    servers.kill(victim)
    servers.wait_for(lambda: bool(servers.records("slow", "done")))
    [(_, first), (_, second)] = servers.records("slow", "started")
    assert first == holder != second
    assert servers.records("slow", "done") == [(1, second)]
