"""The queue: retries, dead letters, delays, timeouts, concurrency, FIFO, fan-out, tracing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import Motia, QueueConfig, Settings, enqueue, http, queue, step
from motia.backends.memory_queue import MemoryQueue
from motia.backends.sqlite_queue import SQLiteQueue
from motia.exceptions import EnqueueError, NonRetryableError

pytestmark = pytest.mark.anyio

FAST = {"backoff_type": "fixed", "backoff_delay_ms": 10}
_backend: dict[str, Callable[[], Any]] = {}


@pytest.fixture(autouse=True, params=["memory", "sqlite", "redis"])
def queue_backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test here runs on every queue backend (Redis: see ``redis_support``)."""
    kind: str = request.param
    if kind == "redis":
        from test_redis_queue import disposable_queues

        _backend["new"] = disposable_queues()
    else:
        _backend["new"] = (
            MemoryQueue if kind == "memory" else lambda: SQLiteQueue(tmp_path / "q.db")
        )
    return kind


def queue_step(name: str, topic: str, handler: Callable[..., Any], **options: Any) -> Any:
    config = options.pop("config", {})
    trigger = queue(topic, config=QueueConfig(**{**FAST, **config}), **options)
    return step({"name": name, "triggers": [trigger]}, handler)


@asynccontextmanager
async def running(*steps: Any, **options: Any) -> AsyncIterator[Motia]:
    motia = Motia(steps_dir=None, steps=steps, store="memory", queue=_backend["new"](), **options)
    app = motia.asgi()
    async with app.router.lifespan_context(app):
        yield motia


async def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def dead_letters_of(motia: Motia, count: int) -> list[Any]:
    with anyio.fail_after(5):
        while len(letters := await motia.runtime.queues.dead_letters()) < count:
            await asyncio.sleep(0.01)
    return letters


async def drained(motia: Motia) -> None:
    """Wait until no message waits or runs (dead letters are not counted): nothing more runs."""
    with anyio.fail_after(5):
        while await motia.runtime.queues.stats():
            await asyncio.sleep(0.01)


async def test_a_sender_enqueueing_in_a_loop_does_not_hold_back_the_workers() -> None:
    sent: list[int] = []
    sent_when_run: list[int] = []

    async def handler(data: Any) -> None:
        sent_when_run.append(len(sent))

    async with running(queue_step("Job", "work", handler)) as motia:
        for n in range(50):
            await motia.runtime.enqueue({"topic": "work", "data": {"n": n}})
            sent.append(n)
        await wait_until(lambda: len(sent_when_run) == 50)
    assert sent_when_run[0] < 50


async def test_a_failing_handler_is_retried_until_it_succeeds() -> None:
    runs: list[int] = []
    effects: list[Any] = []

    async def handler(data: Any) -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError(f"failure {len(runs)}")
        effects.append(data)

    async with running(queue_step("Flaky", "work", handler)) as motia:
        await motia.runtime.enqueue({"topic": "work", "data": {"n": 1}})
        await wait_until(lambda: effects)
        await drained(motia)
        assert await motia.runtime.queues.dead_letters() == []
    assert len(runs) == 3
    assert effects == [{"n": 1}]


async def test_a_handler_that_always_fails_ends_in_the_dead_letter_queue() -> None:
    runs: list[int] = []

    def handler(data: Any) -> None:
        runs.append(1)
        raise ValueError("boom")

    async with running(queue_step("Broken", "work", handler, config={"max_retries": 2})) as motia:
        message_id = await motia.runtime.enqueue({"topic": "work", "data": {"n": 1}})
        [letter] = await dead_letters_of(motia, 1)
    assert len(runs) == 3
    assert letter.message_id == message_id
    assert (letter.topic, letter.step, letter.data) == ("work", "Broken", {"n": 1})
    assert letter.attempts == 3
    assert letter.error == "ValueError: boom"


async def test_failure_lines_name_the_step_and_trace(caplog: pytest.LogCaptureFixture) -> None:
    def handler(data: Any) -> None:
        raise ValueError("boom")

    caplog.set_level(logging.WARNING, logger="motia.queue")
    async with running(queue_step("Broken", "work", handler, config={"max_retries": 1})) as motia:
        await motia.runtime.enqueue({"topic": "work", "data": {}})
        await dead_letters_of(motia, 1)
    failures = [r for r in caplog.records if "boom" in r.getMessage()]
    assert [r.levelname for r in failures] == ["WARNING", "ERROR"]
    assert {getattr(r, "step", None) for r in failures} == {"Broken"}
    assert all(getattr(r, "trace_id", None) for r in failures)


async def test_a_non_retryable_error_goes_to_the_dead_letter_queue_at_once() -> None:
    runs: list[int] = []

    async def handler(data: Any) -> None:
        runs.append(1)
        raise NonRetryableError("bad order")

    async with running(queue_step("Strict", "work", handler)) as motia:
        await motia.runtime.enqueue({"topic": "work", "data": {}})
        [letter] = await dead_letters_of(motia, 1)
    assert runs == [1]
    assert letter.attempts == 1
    assert letter.error == "NonRetryableError: bad order"


class Order(BaseModel):
    id: str
    quantity: int


async def test_input_is_validated_into_the_model_and_invalid_data_is_a_dead_letter() -> None:
    received: list[Any] = []

    async def handler(order: Order) -> None:
        received.append(order)

    async with running(queue_step("Orders", "order", handler, input=Order)) as motia:
        await motia.runtime.enqueue({"topic": "order", "data": {"id": "a", "quantity": "x"}})
        await motia.runtime.enqueue({"topic": "order", "data": {"id": "b", "quantity": 2}})
        [letter] = await dead_letters_of(motia, 1)
        await wait_until(lambda: received)
    assert received == [Order(id="b", quantity=2)]
    assert letter.attempts == 1
    assert letter.error.startswith("invalid input: quantity:")


async def test_delay_seconds_holds_the_message_back() -> None:
    arrived: list[float] = []

    async def handler(data: Any) -> None:
        arrived.append(time.monotonic())

    later = queue_step("Later", "work", handler, config={"delay_seconds": 0.3})
    async with running(later) as motia:
        sent = time.monotonic()
        await motia.runtime.enqueue({"topic": "work", "data": {}})
        await wait_until(lambda: arrived)
    assert arrived[0] - sent >= 0.29


async def test_a_handler_running_past_the_visibility_timeout_is_cancelled_and_retried() -> None:
    runs: list[str] = []

    async def handler(data: Any) -> None:
        runs.append("start")
        try:
            if len(runs) == 1:
                await asyncio.sleep(30)
        except asyncio.CancelledError:
            runs.append("cancelled")
            raise
        runs.append("done")

    slow = queue_step("Slow", "work", handler, config={"visibility_timeout": 0.2})
    async with running(slow) as motia:
        started = time.monotonic()
        await motia.runtime.enqueue({"topic": "work", "data": {}})
        await wait_until(lambda: "done" in runs)
    assert runs == ["start", "cancelled", "start", "done"]
    assert time.monotonic() - started < 5


async def test_concurrency_caps_parallel_runs_of_a_step() -> None:
    active = 0
    peak = 0
    finished: list[int] = []

    async def handler(data: Any) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        finished.append(data["n"])

    capped = queue_step("Capped", "work", handler, config={"concurrency": 2})
    async with running(capped) as motia:
        for n in range(6):
            await motia.runtime.enqueue({"topic": "work", "data": {"n": n}})
        await wait_until(lambda: len(finished) == 6)
    assert peak == 2


async def test_a_worker_with_free_slots_claims_again_at_once() -> None:
    """A finished run frees its slot before it wakes the worker: with one slot, a backlog
    must not wait for the idle poll between messages."""
    finished: list[int] = []

    async def handler(data: Any) -> None:
        finished.append(data["n"])

    single = queue_step("Quick", "work", handler, config={"concurrency": 1})
    async with running(single) as motia:
        for worker in motia.runtime.queues.workers:
            worker.idle_poll = 60.0
        for n in range(5):
            await motia.runtime.enqueue({"topic": "work", "data": {"n": n}})
        await wait_until(lambda: len(finished) == 5)
    assert sorted(finished) == list(range(5))


async def test_fifo_keeps_order_within_a_group_and_runs_groups_in_parallel() -> None:
    seen: dict[str, list[int]] = {"a": [], "b": []}
    active = 0
    peak = 0

    async def handler(data: Any) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.03 if data["n"] % 2 else 0.02)
        seen[data["group"]].append(data["n"])
        active -= 1

    config = {"type": "fifo", "concurrency": 4}
    async with running(queue_step("Ordered", "work", handler, config=config)) as motia:
        for n in range(5):
            for group in ("a", "b"):
                event = {"topic": "work", "data": {"group": group, "n": n}, "messageGroupId": group}
                await motia.runtime.enqueue(event)
        await wait_until(lambda: len(seen["a"]) + len(seen["b"]) == 10)
    assert seen == {"a": [0, 1, 2, 3, 4], "b": [0, 1, 2, 3, 4]}
    assert peak == 2


async def test_fifo_keeps_order_across_a_retry() -> None:
    seen: list[int] = []
    failed: list[int] = []

    async def handler(data: Any) -> None:
        if data["n"] == 0 and not failed:
            failed.append(0)
            raise RuntimeError("first try fails")
        seen.append(data["n"])

    config = {"type": "fifo", "backoff_delay_ms": 50}
    async with running(queue_step("Ordered", "work", handler, config=config)) as motia:
        for n in range(3):
            await motia.runtime.enqueue({"topic": "work", "data": {"n": n}, "messageGroupId": "g"})
        await wait_until(lambda: len(seen) == 3)
    assert seen == [0, 1, 2]


async def test_fifo_refuses_a_message_without_a_group() -> None:
    async def handler(data: Any) -> None: ...

    config = {"type": "fifo"}
    async with running(queue_step("Ordered", "work", handler, config=config)) as motia:
        with pytest.raises(EnqueueError, match="messageGroupId"):
            await motia.runtime.enqueue({"topic": "work", "data": {}})


async def test_every_subscribed_step_gets_its_own_copy() -> None:
    got: dict[str, list[Any]] = {"A": [], "B": []}

    def recorder(name: str) -> Callable[..., Any]:
        async def handler(data: Any, ctx: Any) -> None:
            got[name].append((data, ctx.trigger.type, ctx.trigger.topic, ctx.trigger.index))

        return handler

    steps = [queue_step(name, "news", recorder(name)) for name in got]
    async with running(*steps) as motia:
        await motia.runtime.enqueue({"topic": "news", "data": {"x": 1}})
        await wait_until(lambda: got["A"] and got["B"])
    assert got == {name: [({"x": 1}, "queue", "news", 0)] for name in got}


async def test_a_false_condition_skips_the_message() -> None:
    handled: list[Any] = []

    async def handler(data: Any) -> None:
        handled.append(data)

    picky = queue_step("Picky", "work", handler, condition=lambda data, ctx: data["ok"])
    async with running(picky) as motia:
        await motia.runtime.enqueue({"topic": "work", "data": {"ok": False}})
        await motia.runtime.enqueue({"topic": "work", "data": {"ok": True}})
        await wait_until(lambda: handled)
        assert await motia.runtime.queues.dead_letters() == []
    assert handled == [{"ok": True}]


def http_sender(topic: str, *, awaited: bool = True) -> Any:
    async def handler(args: Any, ctx: Any) -> Any:
        event = {"topic": topic, "data": args.request.body}
        if awaited:
            await ctx.enqueue(event)
        else:
            enqueue(event)
        return {"status": 202, "body": {"trace": ctx.trace_id}}

    config = {"name": "Sender", "triggers": [http("POST", "/send")], "enqueues": [topic]}
    return step(config, handler)


async def test_the_trace_id_travels_with_the_message() -> None:
    traces: list[str] = []

    async def handler(data: Any, ctx: Any) -> None:
        traces.append(ctx.trace_id)

    async with running(http_sender("work"), queue_step("Worker", "work", handler)) as motia:
        transport = httpx.ASGITransport(motia.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post("/send", json={}, headers={"x-trace-id": "trace-42"})
            assert response.status_code == 202
            await wait_until(lambda: traces)
    assert traces == ["trace-42"]


async def test_module_level_enqueue_without_await_still_delivers() -> None:
    got: list[Any] = []

    async def handler(data: Any) -> None:
        got.append(data)

    sender = http_sender("work", awaited=False)
    async with running(sender, queue_step("Worker", "work", handler)) as motia:
        transport = httpx.ASGITransport(motia.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.post("/send", json={"n": 7})).status_code == 202
            await wait_until(lambda: got)
    assert got == [{"n": 7}]


async def test_an_http_step_feeds_a_queue_step_that_writes_state() -> None:
    async def summarize(data: Any, ctx: Any) -> None:
        await ctx.state.set("summaries", data["id"], {"words": len(data["text"].split())})

    steps = [http_sender("todo.created"), queue_step("Summarize", "todo.created", summarize)]
    async with running(*steps) as motia:
        transport = httpx.ASGITransport(motia.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.post("/send", json={"id": "t1", "text": "buy more milk"})
            with anyio.fail_after(5):
                while (summary := await motia.runtime.state.get("summaries", "t1")) is None:
                    await asyncio.sleep(0.01)
    assert summary == {"words": 3}


async def test_dead_letters_can_be_replayed_from_python() -> None:
    healthy = False
    done: list[Any] = []

    async def handler(data: Any) -> None:
        if not healthy:
            raise NonRetryableError("not yet")
        done.append(data)

    async with running(queue_step("Later", "work", handler)) as motia:
        await motia.runtime.enqueue({"topic": "work", "data": {"n": 1}})
        await motia.runtime.enqueue({"topic": "other", "data": {}})
        [letter] = await dead_letters_of(motia, 1)
        assert await motia.runtime.queues.dead_letters(topic="elsewhere") == []
        healthy = True
        assert await motia.runtime.queues.replay([letter.id]) == [letter.id]
        await wait_until(lambda: done)
        assert await motia.runtime.queues.dead_letters() == []
    assert done == [{"n": 1}]


async def test_unfinished_handlers_are_given_back_at_shutdown() -> None:
    started = asyncio.Event()
    outcomes: list[str] = []

    async def handler(data: Any) -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            raise

    with anyio.fail_after(5):
        settings = Settings(graceful_timeout=0.1)
        async with running(queue_step("Slow", "work", handler), settings=settings) as motia:
            await motia.runtime.enqueue({"topic": "work", "data": {}})
            await started.wait()
    assert outcomes == ["cancelled"]


async def test_an_idle_worker_does_not_busy_poll() -> None:
    async def handler(data: Any) -> None: ...

    async with running(queue_step("Idle", "work", handler)) as motia:
        backend = motia.runtime.queues.backend
        claims = 0
        claim = backend.claim

        async def counting_claim(*args: Any, **kwargs: Any) -> Any:
            nonlocal claims
            claims += 1
            return await claim(*args, **kwargs)

        backend.claim = counting_claim  # type: ignore[method-assign]
        await asyncio.sleep(1.2)
    assert claims <= 3


def test_the_queue_lives_where_the_state_does(tmp_path: Any) -> None:
    memory = Motia(steps_dir=None, store="memory")
    assert isinstance(memory.runtime.queues.backend, MemoryQueue)
    durable = Motia(steps_dir=None, project_dir=tmp_path)
    backend = durable.runtime.queues.backend
    assert isinstance(backend, SQLiteQueue)
    assert backend.path == tmp_path / ".motia" / "motia.db"


async def test_topics_without_sender_or_subscriber_are_warned_about_at_build(
    motia_logs: pytest.LogCaptureFixture,
) -> None:
    async def handler(data: Any) -> None: ...

    sender = step(
        {"name": "Sender", "triggers": [http("POST", "/x")], "enqueues": ["nobody.listens"]},
        handler,
    )
    Motia(
        steps_dir=None,
        steps=[sender, queue_step("Lonely", "nobody.sends", handler)],
        store="memory",
    )
    messages = [r.getMessage() for r in motia_logs.records if r.levelno == logging.WARNING]
    assert 'topic "nobody.listens" is enqueued by "Sender" but no step subscribes to it' in messages
    assert 'topic "nobody.sends" is subscribed to by "Lonely" but no step enqueues it' in messages


async def test_virtual_topics_count_for_the_build_check(
    motia_logs: pytest.LogCaptureFixture,
) -> None:
    async def handler(data: Any) -> None: ...

    sender = step(
        {"name": "Sender", "triggers": [http("POST", "/x")], "virtual_enqueues": ["t"]}, handler
    )
    receiver = step(
        {"name": "Receiver", "triggers": [http("POST", "/y")], "virtual_subscribes": ["t"]},
        handler,
    )
    Motia(steps_dir=None, steps=[sender, receiver], store="memory")
    assert not [r for r in motia_logs.records if r.levelno >= logging.WARNING]


async def test_enqueueing_to_an_undeclared_topic_warns_and_still_delivers(
    motia_logs: pytest.LogCaptureFixture,
) -> None:
    got: list[Any] = []

    async def sneaky(data: Any, ctx: Any) -> None:
        await ctx.enqueue({"topic": "second", "data": data})

    async def handler(data: Any) -> None:
        got.append(data)

    steps = [queue_step("Sneaky", "first", sneaky), queue_step("Second", "second", handler)]
    async with running(*steps) as motia:
        await motia.runtime.enqueue({"topic": "first", "data": {"n": 1}})
        await wait_until(lambda: got)
    messages = [r.getMessage() for r in motia_logs.records if r.levelno == logging.WARNING]
    assert any('step "Sneaky" enqueued to topic "second"' in m for m in messages)


async def test_the_demo_pipeline_summarizes_created_todos() -> None:
    root = Path(__file__).resolve().parent.parent
    motia = Motia("steps/todo_pipeline", project_dir=root, store="memory")
    app = motia.asgi()
    async with app.router.lifespan_context(app):
        todo = {"id": "t1", "description": "water the plants on the balcony today", "x": 1}
        await motia.runtime.enqueue({"topic": "todo.created", "data": todo})
        with anyio.fail_after(5):
            while (summary := await motia.runtime.state.get("todo-summaries", "t1")) is None:
                await asyncio.sleep(0.01)
    assert summary == {"id": "t1", "words": 7, "title": "water the plants on the"}


async def test_stats_count_waiting_in_flight_and_retried_messages() -> None:
    release = asyncio.Event()
    attempts: list[int] = []

    async def hold(data: Any) -> None:
        attempts.append(data["n"])
        if data["n"] == 0 and attempts.count(0) == 1:
            raise RuntimeError("first try fails")
        await release.wait()

    holder = queue_step(
        "Hold", "held", hold, config={"concurrency": 1, "backoff_type": "fixed",
                                      "backoff_delay_ms": 10}
    )  # fmt: skip
    async with running(holder) as motia:
        for n in range(3):
            await motia.runtime.enqueue({"topic": "held", "data": {"n": n}})
        await wait_until(lambda: attempts.count(0) == 2 or len(attempts) >= 2)
        with anyio.fail_after(5):
            while (stats := await motia.runtime.queues.stats()).get("held", {}).get(
                "in_flight"
            ) != 1:
                await asyncio.sleep(0.01)
        assert stats["held"]["depth"] == 2
        assert stats["held"]["retries"] >= 1
        release.set()
        await drained(motia)
