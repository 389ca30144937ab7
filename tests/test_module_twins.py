"""Motia's module-level API (``logger``, ``stateManager``, ``Stream``, ``enqueue``):
synchronous calls returning plain values, from sync handlers (worker threads) and async
handlers (the app's loop), on every store, without deadlock and without losing a write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from redis_support import DisposableRedisStore, require_redis

from motia import Motia, Stream, StreamConfig, enqueue, http, logger, queue, stateManager, step
from motia._runtime.sync_calls import start_in_place
from motia.backends.base import Store
from motia.backends.memory import MemoryStore
from motia.backends.sqlite import SQLiteStore

pytestmark = pytest.mark.anyio


def _store(kind: str, tmp_path: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SQLiteStore(tmp_path / "motia.db")
    require_redis()
    return DisposableRedisStore()


def _sync_handler(args: Any) -> dict[str, Any]:
    written = stateManager.set("g", "k", {"n": 1})
    updated = stateManager.update("g", "k", [{"type": "increment", "path": "n", "by": 2}])
    todos = Stream("todo")
    todos.set("inbox", "t1", {"title": "x"})
    created = Stream("undeclared").set("g", "i", {"v": 1})
    enqueue({"topic": "seen", "data": {"from": "handler"}})
    logger.info("wrote", {"count": len(todos.get_group("inbox"))})
    return {
        "status": 200,
        "body": {
            "written": written,
            "updated": updated,
            "value": stateManager.get("g", "k"),
            "groups": stateManager.list_groups(),
            "todos": len(todos.get_group("inbox")),
            "created": created,
            "deleted": stateManager.delete("g", "missing"),
        },
    }


async def _async_handler(args: Any) -> dict[str, Any]:
    return _sync_handler(args)


def _on_seen(data: Any) -> None:
    stateManager.set("queue", "seen", data)


def _app(store: Store, handler: Callable[..., Any]) -> Motia:
    steps = [
        step({"name": "Writer", "triggers": [http("POST", "/go")], "enqueues": ["seen"]}, handler),
        step({"name": "Seen", "triggers": [queue("seen")]}, _on_seen),
    ]
    return Motia(steps_dir=None, steps=steps, streams=[StreamConfig(name="todo")], store=store)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
@pytest.mark.parametrize("handler", [_sync_handler, _async_handler], ids=["def", "async-def"])
async def test_sync_calls_return_plain_values_on_every_store(
    kind: str, handler: Callable[..., Any], tmp_path: Path
) -> None:
    app = _app(_store(kind, tmp_path), handler)
    asgi = app.asgi()
    with anyio.fail_after(20):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                responses = [await client.post("/go") for _ in range(3)]
            while await app.runtime.state.get("queue", "seen") is None:
                await anyio.sleep(0.01)
            undeclared = await app.runtime.streams.named("undeclared").get("g", "i")
    body = responses[0].json()
    assert body["written"] == {"old_value": None, "new_value": {"n": 1}}
    assert body["updated"] == {"old_value": {"n": 1}, "new_value": {"n": 3}}
    assert body["value"] == {"n": 3}
    assert "g" in body["groups"]
    assert body["todos"] == 1
    assert body["created"] == {"old_value": None, "new_value": {"id": "i", "v": 1}}
    assert body["deleted"] == {"old_value": None}
    assert responses[2].json()["written"]["old_value"] == {"n": 3}
    assert undeclared == {"id": "i", "v": 1}


async def test_sync_writes_on_the_loop_reach_stream_subscribers_and_state_triggers(
    tmp_path: Path,
) -> None:
    fired: list[Any] = []

    async def writer(args: Any) -> dict[str, Any]:
        stateManager.set("orders", "o1", {"paid": True})
        return {"status": 200, "body": {}}

    async def on_state(change: Any) -> None:
        fired.append(change.new_value)

    from motia import state

    steps = [
        step({"name": "W", "triggers": [http("POST", "/w")]}, writer),
        step({"name": "OnState", "triggers": [state()]}, on_state),
    ]
    app = Motia(steps_dir=None, steps=steps, store=SQLiteStore(tmp_path / "db"))
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.post("/w")).status_code == 200
            while not fired:
                await anyio.sleep(0.01)
    assert fired == [{"paid": True}]


async def test_a_malformed_enqueue_raises_in_the_handler() -> None:
    async def handler(args: Any) -> dict[str, Any]:
        try:
            enqueue({"data": {}})  # no topic
        except Exception as exc:
            return {"status": 200, "body": type(exc).__name__}
        return {"status": 200, "body": "no error"}

    definition = step({"name": "E", "triggers": [http("POST", "/e")]}, handler)
    app = Motia(steps_dir=None, steps=[definition], store="memory")
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.post("/e")).text == "EnqueueError"


async def test_the_module_logger_logs_as_the_running_step(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(args: Any, ctx: Any) -> dict[str, Any]:
        logger.info("hello from the module logger", {"k": 1})
        return {"status": 200, "body": {"trace": ctx.trace_id}}

    definition = step({"name": "Twins", "triggers": [http("POST", "/go")]}, handler)
    app = Motia(steps_dir=None, steps=[definition], store="memory")
    asgi = app.asgi()
    with caplog.at_level(logging.INFO, logger="motia.steps"), anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post("/go")
    record = next(r for r in caplog.records if r.getMessage() == "hello from the module logger")
    assert record.step == "Twins"  # type: ignore[attr-defined]
    assert record.trace_id == response.json()["trace"]  # type: ignore[attr-defined]
    assert record.data == {"k": 1}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_awaited_calls_are_the_async_calls(kind: str, tmp_path: Path) -> None:
    # Motia's README and examples write `await todo_stream.set(...)`: that works too.
    async def handler(args: Any) -> dict[str, Any]:
        todos: Stream[dict[str, Any]] = Stream("todo")
        written = await todos.set("inbox", "t1", {"title": "x"})
        items = await todos.get_group("inbox")
        missing = await todos.get("inbox", "nope")
        await todos.delete("inbox", "nope")
        await stateManager.clear("nothing")
        await stateManager.set("g", "k", 1)
        await enqueue({"topic": "seen", "data": {"n": len(items)}})
        return {
            "status": 200,
            "body": {
                "written": written,
                "items": items,
                "missing": missing,
                "value": await stateManager.get("g", "k"),
            },
        }

    app = _app(_store(kind, tmp_path), handler)
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                body = (await client.post("/go")).json()
            while await app.runtime.state.get("queue", "seen") is None:
                await anyio.sleep(0.01)
    assert body == {
        "written": {"old_value": None, "new_value": {"id": "t1", "title": "x"}},
        "items": [{"id": "t1", "title": "x"}],
        "missing": None,
        "value": 1,
    }


def test_twins_outside_a_handler_say_so() -> None:
    with pytest.raises(RuntimeError, match="only be used while a step handler is running"):
        Stream("todo").set("g", "i", {})
    with pytest.raises(RuntimeError, match="only be used while a step handler is running"):
        stateManager.get("g", "k")


async def test_work_started_in_place_times_out_on_its_own_task_not_the_callers() -> None:
    # asyncio.timeout binds to the current task: the caller must never be the one cancelled.
    outcome: list[str] = []

    async def read_with_zero_timeout() -> None:
        try:
            async with asyncio.timeout(0):
                await asyncio.sleep(1)
        except TimeoutError:
            outcome.append("timed out")

    with anyio.fail_after(5):
        start_in_place(read_with_zero_timeout(), "a read")
        while not outcome:
            await asyncio.sleep(0.01)
    assert outcome == ["timed out"]
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_work_started_in_place_raises_its_checks_in_the_caller() -> None:
    async def refuse() -> None:
        raise ValueError("undeclared")

    with pytest.raises(ValueError, match="undeclared"):
        start_in_place(refuse(), "a check")
    await asyncio.sleep(0)  # the task that would have finished it ends quietly
