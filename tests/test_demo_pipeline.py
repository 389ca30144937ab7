"""The demo todo pipeline: POST /todo -> queue summary -> completion log, cron count."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from support import REPO

from motia import Motia

pytestmark = pytest.mark.anyio


async def eventually(check: Callable[[], Any], seconds: float = 10.0) -> Any:
    with anyio.fail_after(seconds):
        while not (result := await check()):
            await anyio.sleep(0.02)
    return result


async def test_create_summarize_complete_and_count(caplog: pytest.LogCaptureFixture) -> None:
    app = Motia(REPO / "steps", project_dir=REPO, store="memory")
    asgi = app.asgi()
    state = app.runtime.state
    with caplog.at_level(logging.INFO, logger="motia.steps"), anyio.fail_after(20):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                created = await client.post("/todo", json={"description": "write the docs today"})
                assert created.status_code == 201
                todo = created.json()
                summary = await eventually(lambda: state.get("todo-summaries", todo["id"]))
                assert summary == {"id": todo["id"], "words": 4, "title": "write the docs today"}

                done = await client.post(f"/todo/{todo['id']}/complete")
                assert done.status_code == 200 and done.json()["completedAt"]
                await eventually(lambda: _logged(caplog, "todo completed"))
                missing = await client.post("/todo/nope/complete")
                assert missing.status_code == 404

            count = next(job for job in app.runtime.cron.jobs if job.name == "CountOpenTodos")
            await count.run()
            assert await state.get("todo-stats", "open") == {"open": 0, "total": 1}


async def _logged(caplog: pytest.LogCaptureFixture, message: str) -> bool:
    return any(record.getMessage() == message for record in caplog.records)
