"""The queue while Redis is down: each loop that keeps trying (a step's worker, the backlog
reading) logs one warning when the outage starts and one line when it ends, a run whose
outcome cannot be recorded one warning, none with a traceback; and messages sent once
Redis is back still run."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import anyio
import pytest
from redis_support import private_redis

from motia import Motia, QueueConfig, Settings, queue, step
from motia.backends.queue import Subscriber
from motia.backends.redis import RedisStore
from motia.backends.redis_queue import RedisQueue
from motia.exceptions import StoreUnavailable
from motia.queues.failures import FailureStreak

pytestmark = pytest.mark.anyio


def test_a_streak_logs_its_start_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.streak")
    streak = FailureStreak(log, "reading the thing")
    with caplog.at_level(logging.INFO, logger="test.streak"):
        for _ in range(3):
            streak.failed(ConnectionError("cannot reach Redis: refused"))
        streak.succeeded()
        streak.succeeded()
        streak.failed(KeyError("a bug"))
        streak.failed(KeyError("a bug"))
    lines = [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert lines == [
        (
            logging.WARNING,
            "reading the thing failed, retrying until it works: cannot reach Redis: refused",
            False,
        ),
        (logging.INFO, "reading the thing works again", False),
        (logging.ERROR, "reading the thing failed, retrying until it works", True),
    ]


async def test_a_redis_queue_that_lost_redis_says_so() -> None:
    with private_redis() as redis_server:
        async with RedisQueue(redis_server.url, prefix="lost:") as backend:
            redis_server.stop()
            sub = Subscriber("Record", 0)
            calls = (
                backend.stats,
                backend.dead_letters,
                lambda: backend.claim(sub, limit=1, lease=1.0, fifo=False),
            )
            for call in calls:
                with anyio.fail_after(5), pytest.raises(StoreUnavailable, match="cannot reach"):
                    await call()


@pytest.mark.slow
async def test_an_outage_is_one_warning_per_loop_and_messages_run_after_it(
    motia_logs: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []
    started, finish = asyncio.Event(), asyncio.Event()

    async def record(data: Any) -> None:
        if data["n"] == 0:  # still running when Redis goes: its ack cannot be written
            started.set()
            await finish.wait()
        seen.append(data["n"])

    trigger = queue("work", config=QueueConfig(backoff_type="fixed", backoff_delay_ms=10))
    worker = step({"name": "Record", "triggers": [trigger]}, record)
    settings = Settings(queue_reading_interval=0.1)
    with private_redis() as redis_server:
        store = RedisStore(redis_server.url, prefix="outage:")
        motia = Motia(None, steps=[worker], store=store, settings=settings)
        for loop in motia.runtime.queues.workers:
            loop.idle_poll = 0.1
        app = motia.asgi()
        async with app.router.lifespan_context(app):
            await motia.runtime.enqueue({"topic": "work", "data": {"n": 0}})
            with anyio.fail_after(5):
                await started.wait()
            redis_server.stop()
            finish.set()
            await asyncio.sleep(1.0)  # about ten rounds of each loop
            await anyio.to_thread.run_sync(redis_server.start)
            with anyio.fail_after(10):
                while 1 not in seen:
                    try:
                        await motia.runtime.enqueue({"topic": "work", "data": {"n": 1}})
                    except StoreUnavailable:  # the client has not reconnected yet
                        await asyncio.sleep(0.1)
                        continue
                    await asyncio.sleep(0.5)

    queue_lines = [r for r in motia_logs.records if r.name == "motia.queue"]
    warnings = [r.getMessage() for r in queue_lines if " failed, " in r.getMessage()]
    assert sorted(w.split(" failed")[0] for w in warnings) == [
        'claiming deliveries for step "Record"',
        "listening for deliveries other processes make ready",
        "reading the queue depth and lag",
    ]
    assert all("cannot reach Redis" in w for w in warnings)
    assert {r.levelno for r in queue_lines if " failed, " in r.getMessage()} == {logging.WARNING}
    assert not [r for r in queue_lines if r.exc_info or r.levelno >= logging.ERROR]
    recovered = [r.getMessage() for r in queue_lines if r.getMessage().endswith("works again")]
    assert len(recovered) == 3
    [unrecorded] = [r for r in queue_lines if "could not be recorded" in r.getMessage()]
    assert unrecorded.levelno == logging.WARNING and "cannot reach Redis" in unrecorded.getMessage()
