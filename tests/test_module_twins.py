"""Motia 1.0's module-level twins: logger, stateManager, Stream, bound to the running handler."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest

from motia import Motia, Stream, StreamConfig, http, logger, stateManager, step
from motia._runtime import current

pytestmark = pytest.mark.anyio


async def call(handler: Any, path: str = "/go") -> httpx.Response:
    definition = step({"name": "Twins", "triggers": [http("POST", path)]}, handler)
    app = Motia(
        steps_dir=None, steps=[definition], streams=[StreamConfig(name="todo")], store="memory"
    )
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(path)
            response.extensions["app"] = app
            while current._pending:  # un-awaited twin calls still running
                await anyio.sleep(0.01)
            response.extensions["state"] = await app.runtime.state.get("g", "k")
            response.extensions["todo"] = await app.runtime.streams.todo.get("inbox", "t1")
    return response


async def test_un_awaited_state_and_stream_writes_still_happen() -> None:
    async def handler(args: Any) -> dict[str, Any]:
        stateManager.set("g", "k", {"n": 1})
        Stream("todo").set("inbox", "t1", {"title": "x"})
        return {"status": 200, "body": {}}

    response = await call(handler)
    assert response.extensions["state"] == {"n": 1}
    assert response.extensions["todo"] == {"id": "t1", "title": "x"}


async def test_awaited_twins_return_what_the_context_would() -> None:
    async def handler(args: Any) -> dict[str, Any]:
        written = await stateManager.set("g", "k", 5)
        await stateManager.update("g", "k", [{"type": "increment", "path": "", "by": 2}])
        item = await Stream("todo").set("inbox", "t1", {"title": "x"})
        return {
            "status": 200,
            "body": {
                "written": written,
                "value": await stateManager.get("g", "k"),
                "groups": await stateManager.list_groups(),
                "item": item,
                "items": await Stream("todo").get_group("inbox"),
            },
        }

    body = (await call(handler)).json()
    assert body["written"] == {"old_value": None, "new_value": 5}
    assert body["value"] == 7
    assert body["groups"] == ["g"]
    assert body["item"] == {"id": "t1", "title": "x"}
    assert body["items"] == [{"id": "t1", "title": "x"}]


async def test_the_module_logger_logs_as_the_running_step(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(args: Any, ctx: Any) -> dict[str, Any]:
        logger.info("hello from the module logger", {"k": 1})
        return {"status": 200, "body": {"trace": ctx.trace_id}}

    with caplog.at_level(logging.INFO, logger="motia.steps"):
        response = await call(handler)
    record = next(r for r in caplog.records if r.getMessage() == "hello from the module logger")
    assert record.step == "Twins"  # type: ignore[attr-defined]
    assert record.trace_id == response.json()["trace"]  # type: ignore[attr-defined]
    assert record.data == {"k": 1}  # type: ignore[attr-defined]


def test_twins_outside_a_handler_say_so() -> None:
    with pytest.raises(RuntimeError, match="only be used while a step handler is running"):
        Stream("todo").set("g", "i", {})
