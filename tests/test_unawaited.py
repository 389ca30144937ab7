"""A write on ctx that nobody awaits is reported in the step's log, naming the line."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx
import pytest

from motia import Motia, StreamConfig, http, step
from motia._runtime.logs import JsonFormatter

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serve(motia: Motia) -> AsyncIterator[httpx.AsyncClient]:
    app = motia.asgi()
    with anyio.fail_after(10):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


@contextmanager
def step_log() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("motia.steps")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def forgetful(args: Any, ctx: Any) -> Any:
    ctx.state.set("notes", "n1", {"text": "lost"})  # line +1
    ctx.enqueue({"topic": "noted", "data": {}})  # line +2
    ctx.streams.notes.set("inbox", "n1", {"text": "lost"})  # line +3
    return {"status": 200, "body": {}}


def app_with(handler: Any) -> Motia:
    config = {"name": "Forgetful", "triggers": [http("POST", "/notes")], "enqueues": ["noted"]}
    return Motia(
        steps_dir=None,
        steps=[step(config, handler)],
        streams=[StreamConfig(name="notes", schema={"type": "object"})],
        store="memory",
    )


async def test_each_unawaited_write_is_logged_with_its_step_and_line() -> None:
    motia = app_with(forgetful)
    first = forgetful.__code__.co_firstlineno
    with warnings.catch_warnings(record=True) as caught, step_log() as records:
        warnings.simplefilter("always")
        async with serve(motia) as client:
            assert (await client.post("/notes")).status_code == 200
            gc.collect()
        assert await motia.runtime.state.get("notes", "n1") is None  # the write did not happen
    assert [w for w in caught if "never awaited" in str(w.message)] == []
    errors = [r for r in records if r.levelno == logging.ERROR]
    calls = ["ctx.state.set", "ctx.enqueue", "ctx.streams.notes.set"]
    assert [r.getMessage().split("(...)")[0] for r in errors] == calls
    for offset, record in enumerate(errors, start=1):
        assert record.step == "Forgetful"  # type: ignore[attr-defined]
        assert record.trace_id  # type: ignore[attr-defined]
        assert f"test_unawaited.py:{first + offset})" in record.getMessage()
        assert "so it did nothing: write `await " in record.getMessage()
    entry = JsonFormatter().format(errors[0])
    assert '"step":"Forgetful"' in entry.replace(" ", "") and '"level":"error"' in entry


async def test_awaited_gathered_and_tasked_writes_happen_without_a_report() -> None:
    async def careful(args: Any, ctx: Any) -> Any:
        await ctx.state.set("notes", "a", {"n": 1})
        await asyncio.gather(ctx.state.set("notes", "b", 2), ctx.streams.notes.set("g", "i", {}))
        await asyncio.create_task(
            ctx.state.update("notes", "a", [{"type": "increment", "path": "n", "by": 1}])
        )
        await ctx.enqueue({"topic": "noted", "data": {}})
        return {"status": 200, "body": {}}

    motia = app_with(careful)
    with step_log() as records:
        async with serve(motia) as client:
            assert (await client.post("/notes")).status_code == 200
            gc.collect()
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []
    assert await motia.runtime.state.get("notes", "b") == 2
    assert await motia.runtime.state.get("notes", "a") == {"n": 2}
