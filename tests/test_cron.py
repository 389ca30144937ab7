"""Cron expressions and the scheduler: ticks, conditions, overlap, build-time errors."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import anyio
import httpx
import pytest

from motia import BuildError, Motia, cron, step
from motia._project.cron_schedule import CronSchedule, InvalidCronExpression

pytestmark = pytest.mark.anyio

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_five_fields_are_minute_first() -> None:
    assert CronSchedule("*/5 * * * *").next_after(START) == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


def test_six_fields_are_seconds_first() -> None:
    following = CronSchedule("*/10 * * * * *").next_after(START)
    assert following == datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["* * * *", "61 * * * *", "* * * * * * *", "nope"])
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(InvalidCronExpression):
        CronSchedule(expression)


def test_an_invalid_expression_fails_the_build_naming_the_trigger() -> None:
    definition = step({"name": "Tick", "triggers": [cron("99 * * * *")]}, lambda: None)
    with pytest.raises(BuildError) as caught:
        Motia(steps_dir=None, steps=[definition], store="memory")
    assert 'config["triggers"][0]' in str(caught.value)
    assert "99 * * * *" in str(caught.value)


async def run_app_for(app: Motia, seconds: float) -> None:
    asgi = app.asgi()
    with anyio.fail_after(seconds + 10):
        async with asgi.router.lifespan_context(asgi):
            await anyio.sleep(seconds)


async def test_every_second_cron_runs_each_second_with_its_context() -> None:
    runs: list[tuple[str, object, str]] = []

    async def handler(ctx: object) -> None:
        runs.append((ctx.trigger.type, ctx.trigger.expression, ctx.trace_id))  # type: ignore[attr-defined]

    definition = step({"name": "Tick", "triggers": [cron("* * * * * *")]}, handler)
    await run_app_for(Motia(steps_dir=None, steps=[definition], store="memory"), 2.6)
    assert 2 <= len(runs) <= 3
    assert all(kind == "cron" and expression == "* * * * * *" for kind, expression, _ in runs)
    assert len({trace for _, _, trace in runs}) == len(runs)


async def test_handlers_may_take_no_arguments() -> None:
    runs = []
    definition = step({"name": "Tick", "triggers": [cron("* * * * * *")]}, lambda: runs.append(1))
    await run_app_for(Motia(steps_dir=None, steps=[definition], store="memory"), 1.6)
    assert runs


async def test_a_false_condition_skips_the_run() -> None:
    runs = []

    async def handler() -> None:
        runs.append(1)

    trigger = cron("* * * * * *", condition=lambda input, ctx: False)
    definition = step({"name": "Tick", "triggers": [trigger]}, handler)
    await run_app_for(Motia(steps_dir=None, steps=[definition], store="memory"), 1.6)
    assert runs == []


async def test_a_run_still_going_is_not_doubled(caplog: pytest.LogCaptureFixture) -> None:
    active = 0
    most = 0
    runs = 0

    async def handler() -> None:
        nonlocal active, most, runs
        active += 1
        runs += 1
        most = max(most, active)
        try:
            await asyncio.sleep(1.5)
        finally:
            active -= 1

    definition = step({"name": "Slow", "triggers": [cron("* * * * * *")]}, handler)
    with caplog.at_level(logging.WARNING, logger="motia.cron"):
        await run_app_for(Motia(steps_dir=None, steps=[definition], store="memory"), 3.7)
    assert most == 1
    assert 1 <= runs <= 2
    assert "still running" in caplog.text


async def test_a_failing_run_is_logged_and_later_ticks_still_fire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = []

    async def handler() -> None:
        runs.append(1)
        raise RuntimeError("boom")

    definition = step({"name": "Failing", "triggers": [cron("* * * * * *")]}, handler)
    await run_app_for(Motia(steps_dir=None, steps=[definition], store="memory"), 2.6)
    assert len(runs) >= 2
    assert "cron step 'Failing' failed" in caplog.text


async def test_http_requests_are_served_while_cron_runs() -> None:
    definition = step({"name": "Tick", "triggers": [cron("* * * * * *")]}, lambda: None)
    asgi = Motia(steps_dir=None, steps=[definition], store="memory").asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/missing")).status_code == 404
