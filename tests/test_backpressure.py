"""Back-pressure: queue depth and lag as every backend reports them, in the metrics, and
the admission limits that refuse ``enqueue`` (503 with ``Retry-After``) past them."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from redis_support import redis_url, require_redis, unique_prefix
from stream_server import ServerThread, build_app
from test_metrics import samples, value

from motia import http, queue, step
from motia.backends.memory_queue import MemoryQueue
from motia.backends.queue import Delivery, QueueBackend, Subscriber
from motia.backends.redis_queue import RedisQueue
from motia.backends.sqlite_queue import SQLiteQueue
from motia.cli import _options, _parser
from motia.console.queue_view import queue_overview
from motia.exceptions import QueueFull
from motia.queues.admission import MAX_RETRY_AFTER, Admission
from motia.queues.backlog import Backlog, TopicBacklog
from motia.settings import Settings

pytestmark = pytest.mark.anyio

TOPIC = "order.created"
RELEASE = threading.Event()
"""Holds every run of the queue step until set: messages stay waiting behind it."""


async def place(args: Any, ctx: Any) -> dict[str, Any]:
    await ctx.enqueue({"topic": TOPIC, "data": args.request.body})
    return {"status": 202, "body": {}}


async def record(data: Any, ctx: Any) -> None:
    while not RELEASE.is_set():
        await asyncio.sleep(0.01)


STEPS = [
    step({"name": "Place", "triggers": [http("POST", "/orders")], "enqueues": [TOPIC]}, place),
    step({"name": "Record", "triggers": [queue(TOPIC, config={"concurrency": 1})]}, record),
]


class DisposableRedisQueue(RedisQueue):
    async def close(self) -> None:
        if self._client is not None:
            await self.purge()
        await super().close()


def sqlite_queue(tmp_path: Path) -> QueueBackend:
    return SQLiteQueue(tmp_path / "queue.db")


def redis_queue(tmp_path: Path) -> QueueBackend:
    require_redis()
    return DisposableRedisQueue(redis_url(), prefix=unique_prefix())


BACKENDS: dict[str, Callable[[Path], QueueBackend]] = {
    "memory": lambda tmp_path: MemoryQueue(),
    "sqlite": sqlite_queue,
    "redis": redis_queue,
}


@pytest.fixture(params=list(BACKENDS))
def make_queue(request: pytest.FixtureRequest) -> Callable[[Path], QueueBackend]:
    return BACKENDS[request.param]


@contextmanager
def serving(tmp_path: Path, backend: QueueBackend, **settings: Any) -> Iterator[ServerThread]:
    RELEASE.clear()
    chosen = Settings(heartbeat_interval=0, queue_reading_interval=0.02, **settings)
    app = build_app(tmp_path, steps=STEPS, settings=chosen, queue=backend)
    try:
        with ServerThread(app) as running:
            yield running
    finally:
        RELEASE.set()


async def scrape(client: httpx.AsyncClient) -> dict[Any, float]:
    response = await client.get("/__motia/metrics")
    assert response.status_code == 200
    return samples(response.text)


async def until(client: httpx.AsyncClient, done: Callable[[dict[Any, float]], bool]) -> Any:
    """Scrape until ``done`` holds for the metrics (a reading runs every 20 ms)."""
    with anyio.fail_after(10):
        while not done(found := await scrape(client)):
            await anyio.sleep(0.02)
    return found


async def post_until_refused(client: httpx.AsyncClient) -> tuple[list[int], httpx.Response]:
    """Place orders until one is refused; the statuses of those accepted and the refusal."""
    accepted = []
    with anyio.fail_after(10):
        while (response := await client.post("/orders", json={"n": len(accepted)})).is_success:
            accepted.append(response.status_code)
            await anyio.sleep(0.01)
    return accepted, response


# -- what each backend reports -----------------------------------------------------------------


def due(sub: Subscriber, at: float) -> Delivery:
    return Delivery(
        id=uuid.uuid4().hex, message_id=uuid.uuid4().hex, topic="t", subscriber=sub,
        data={}, trace_id="trace", available_at=at,
    )  # fmt: skip


@asynccontextmanager
async def opened(backend: QueueBackend) -> AsyncIterator[QueueBackend]:
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


async def test_each_backend_reports_its_oldest_due_unleased_delivery(
    make_queue: Callable[[Path], QueueBackend], tmp_path: Path
) -> None:
    sub, now = Subscriber("Record", 0), time.time()
    first, second, later = due(sub, now - 50), due(sub, now - 30), due(sub, now + 3600)
    async with opened(make_queue(tmp_path)) as backend:
        assert await backend.oldest_waiting(sub) is None
        for delivery in (first, second, later):
            await backend.push([delivery])
        assert await backend.oldest_waiting(sub) == pytest.approx(first.available_at)
        [taken] = await backend.claim(sub, limit=1, lease=0.2, fifo=False)
        assert taken.id == first.id
        assert await backend.oldest_waiting(sub) == pytest.approx(second.available_at)
        assert (await backend.stats())["t"]["depth"] == 2  # the leased one is not waiting
        [also] = await backend.claim(sub, limit=1, lease=60, fifo=False)
        assert also.id == second.id
        with anyio.fail_after(10):  # the first lease runs out: it waits again
            while await backend.oldest_waiting(sub) is None:
                await anyio.sleep(0.05)
        assert await backend.oldest_waiting(sub) == pytest.approx(first.available_at)
        assert await backend.oldest_waiting(Subscriber("Other", 0)) is None


def subscription(sub: Subscriber) -> Any:
    return type("Subscription", (), {"subscriber": sub, "topic": "t"})()


async def test_a_reading_gathers_depth_lag_and_dead_letters_per_topic(tmp_path: Path) -> None:
    sub, other = Subscriber("Record", 0), Subscriber("Audit", 0)
    async with opened(MemoryQueue()) as backend:
        now = time.time()
        await backend.push([due(sub, now - 10), due(sub, now - 1), due(other, now - 5)])
        [taken] = await backend.claim(sub, limit=1, lease=60, fifo=False)
        await backend.bury(taken, error="gone")
        backlog = Backlog(backend, [subscription(sub), subscription(other)], interval=1.0)
        await backlog.read()
    row = backlog.topics["t"]
    assert (row.depth, row.in_flight, row.dead) == (2, 0, 1)  # once per subscribing step
    assert row.lag(now) == pytest.approx(5.0, abs=0.01)
    assert backlog.total_depth() == 2
    assert backlog.max_lag(now) == pytest.approx(5.0, abs=0.01)


def test_a_slow_reading_spaces_the_next_ones_out() -> None:
    backlog = Backlog(MemoryQueue(), [], interval=1.0)
    assert backlog.pause_after(0.001) == 1.0
    assert backlog.pause_after(0.5) == pytest.approx(9.5)  # 0.5 s of every 10 s: 5%


# -- the metrics -------------------------------------------------------------------------------


async def test_depth_lag_and_waits_are_served_as_metrics(
    make_queue: Callable[[Path], QueueBackend], tmp_path: Path
) -> None:
    topic = {"topic": TOPIC}
    with serving(tmp_path, make_queue(tmp_path), metrics=True, max_queue_depth=0) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            for n in range(4):
                assert (await client.post("/orders", json={"n": n})).status_code == 202
            held = await until(
                client,
                lambda m: (
                    value(m, "motia_queue_depth", **topic) == 3
                    and value(m, "motia_queue_lag_seconds", **topic) > 0
                ),
            )
            assert value(held, "motia_queue_in_flight", **topic) == 1
            RELEASE.set()
            await until(client, lambda m: value(m, "motia_queue_wait_seconds_count", **topic) == 4)
            drained = await until(client, lambda m: value(m, "motia_queue_depth", **topic) == 0)
    assert value(drained, "motia_queue_lag_seconds", **topic) == 0
    assert value(drained, "motia_queue_wait_seconds_count", **topic) == 4
    slowest = value(drained, "motia_queue_wait_seconds_sum", **topic)
    assert slowest > value(held, "motia_queue_lag_seconds", **topic)  # they waited behind one


async def test_the_console_shows_each_topics_depth_and_lag(tmp_path: Path) -> None:
    with serving(tmp_path, MemoryQueue(), max_queue_depth=0) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            for n in range(2):
                assert (await client.post("/orders", json={"n": n})).status_code == 202
        runtime, steps = server.motia.runtime, server.motia.registry.steps
        with anyio.fail_after(10):
            while True:
                view = server.call(queue_overview, runtime, steps, [])
                [row] = [topic for topic in view["topics"] if topic["topic"] == TOPIC]
                if row["depth"] == 1 and row["lag"] > 0:
                    break
                await anyio.sleep(0.02)


# -- admission ---------------------------------------------------------------------------------


async def test_past_max_queue_depth_an_enqueueing_step_answers_503_with_retry_after(
    make_queue: Callable[[Path], QueueBackend], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="motia.queue")
    backend = make_queue(tmp_path)
    with serving(tmp_path, backend, metrics=True, max_queue_depth=3) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            accepted, refused = await post_until_refused(client)
            again = await client.post("/orders", json={})
            found = await scrape(client)
            assert len(accepted) >= 4  # one taken by the step, three waiting
            assert refused.status_code == again.status_code == 503
            body = refused.json()
            assert (body["error"], body["limit"]) == ("Server busy: too many messages waiting", 3)
            assert 1 <= int(refused.headers["retry-after"]) <= MAX_RETRY_AFTER
            assert value(found, "motia_hit_max_queue_depth_total") == 2
            assert server.motia.runtime.stats.hit_max_queue_depth == 2
            RELEASE.set()
            with anyio.fail_after(10):
                while (await client.post("/orders", json={})).status_code == 503:
                    await anyio.sleep(0.02)
    lines = [r.getMessage() for r in caplog.records if r.name == "motia.queue"]
    refusals = [line for line in lines if "refused" in line and "max_queue_depth=3" in line]
    assert len(refusals) == 1, lines  # once per burst, not per request
    assert any(f'topic "{TOPIC}" takes messages again' in line for line in lines), lines


async def test_past_max_queue_lag_enqueue_is_refused_until_the_queue_catches_up(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, MemoryQueue(), max_queue_depth=0, max_queue_lag=0.2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
            _, refused = await post_until_refused(client)
            assert refused.status_code == 503
            assert refused.json()["limit"] == 0.2
            assert refused.json()["error"] == "Server busy: messages wait too long"
            assert 1 <= int(refused.headers["retry-after"]) <= MAX_RETRY_AFTER
            assert server.motia.runtime.stats.hit_max_queue_lag >= 1
            RELEASE.set()
            with anyio.fail_after(10):
                while (await client.post("/orders", json={})).status_code == 503:
                    await anyio.sleep(0.02)


RELAYED: list[Any] = []


async def relay(data: Any, ctx: Any) -> None:
    await ctx.enqueue({"topic": TOPIC, "data": data})
    RELAYED.append(data)


async def test_a_queue_step_enqueueing_to_a_full_topic_retries_until_it_drains(
    tmp_path: Path,
) -> None:
    retrying = {"max_retries": 100, "backoff_type": "fixed", "backoff_delay_ms": 20}
    relay_step = step(
        {"name": "Relay", "triggers": [queue("relay", config=retrying)], "enqueues": [TOPIC]},
        relay,
    )
    RELAYED.clear()
    RELEASE.clear()
    settings = Settings(heartbeat_interval=0, queue_reading_interval=0.02, max_queue_depth=2)
    app = build_app(tmp_path, steps=[*STEPS, relay_step], settings=settings, queue=MemoryQueue())
    try:
        with ServerThread(app) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
                await post_until_refused(client)
                server.call(server.motia.runtime.enqueue, {"topic": "relay", "data": {"n": 1}})
                with anyio.fail_after(10):
                    while server.motia.runtime.stats.hit_max_queue_depth < 3:
                        await anyio.sleep(0.02)
                assert RELAYED == []  # every attempt so far was refused
                RELEASE.set()
                with anyio.fail_after(10):
                    while not RELAYED:
                        await anyio.sleep(0.02)
    finally:
        RELEASE.set()
    assert RELAYED == [{"n": 1}]


def test_retry_after_follows_the_drain_estimate_within_bounds() -> None:
    now = time.time()
    counted: list[str] = []
    admission = Admission(Settings(max_queue_depth=100), counted.append)

    def retry_after(depth: int, lag: float) -> int:
        backlog = Backlog(MemoryQueue(), [], interval=1.0)
        backlog.topics = {"t": TopicBacklog(depth=depth, oldest_due=now - lag)}
        admission.judge(backlog)
        try:
            admission.admit("t")
        except QueueFull as refusal:
            return refusal.retry_after
        raise AssertionError("admitted")

    # 200 waiting, the oldest for 20 s: about 10 per second drain; 101 over the limit.
    assert retry_after(200, 20.0) == 11
    assert retry_after(101, 0.5) == 1
    assert retry_after(100_000, 3600.0) == MAX_RETRY_AFTER
    assert counted == ["max_queue_depth"] * 3


def test_the_limits_are_set_from_the_command_line() -> None:
    args = _parser().parse_args(["start", "--max-queue-depth", "50", "--max-queue-lag", "2.5"])
    settings = Settings(**_options(args, dev=False).settings)
    assert (settings.max_queue_depth, settings.max_queue_lag) == (50, 2.5)
    defaults = Settings(**_options(_parser().parse_args(["start"]), dev=False).settings)
    assert (defaults.max_queue_depth, defaults.max_queue_lag) == (100_000, 0.0)


class SwallowsOneCancel(MemoryQueue):
    """A backend whose reading swallows the cancellation that lands during it, as a Redis
    client can while it reads a pipeline's replies."""

    def __init__(self) -> None:
        super().__init__()
        self.reading = asyncio.Event()

    async def stats(self) -> dict[str, dict[str, int]]:
        self.reading.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass
        return {}


async def test_stopping_ends_the_reading_even_when_its_cancellation_is_swallowed() -> None:
    backend = SwallowsOneCancel()
    backlog = Backlog(backend, [], interval=60.0)
    with anyio.fail_after(5):
        reading = asyncio.create_task(backlog.run())
        await backend.reading.wait()
        backlog.stop()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
    assert reading.done()
