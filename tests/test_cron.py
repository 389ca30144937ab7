"""Cron expressions and the scheduler: ticks, conditions, overlap, build-time errors.

The scheduler runs on a ``FakeClock``: each test moves time by hand and checks the
exact moments at which steps run, without waiting on the wall clock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from fake_clock import FakeClock

from motia import BuildError, Motia, cron, step
from motia._project.cron_schedule import CronSchedule
from motia._project.step import StepDefinition
from motia._runtime.clock import SYSTEM_CLOCK
from motia.exceptions import InvalidCronExpression

pytestmark = pytest.mark.anyio

START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_five_fields_are_minute_first() -> None:
    assert CronSchedule("*/5 * * * *").next_after(START) == datetime(2026, 1, 1, 12, 5, tzinfo=UTC)


def test_six_fields_are_seconds_first() -> None:
    following = CronSchedule("*/10 * * * * *").next_after(START)
    assert following == datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)


def test_seven_fields_are_seconds_first_then_the_year() -> None:
    # Motia's samples: "5 * * * * * *" fires at second 5 of every minute.
    assert CronSchedule("5 * * * * * *").next_after(START) == datetime(
        2026, 1, 1, 12, 0, 5, tzinfo=UTC
    )
    following = CronSchedule("0 30 9 * * * 2027").next_after(START)
    assert following == datetime(2027, 1, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression", ["* * * *", "61 * * * *", "* * * * * * * *", "0 0 0 * * * 1800", "nope"]
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(InvalidCronExpression):
        CronSchedule(expression)


def test_an_invalid_expression_fails_the_build_naming_the_trigger() -> None:
    definition = step({"name": "Tick", "triggers": [cron("99 * * * *")]}, lambda: None)
    with pytest.raises(BuildError) as caught:
        Motia(steps_dir=None, steps=[definition], store="memory")
    assert 'config["triggers"][0]' in str(caught.value)
    assert "99 * * * *" in str(caught.value)


def at(*seconds: int) -> list[datetime]:
    """Moments ``seconds`` after START."""
    return [START + timedelta(seconds=s) for s in seconds]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@asynccontextmanager
async def serving(clock: FakeClock, *definitions: StepDefinition) -> AsyncIterator[Motia]:
    """The app running with its scheduler on ``clock``, every cron job asleep."""
    app = Motia(steps_dir=None, steps=list(definitions), store="memory")
    app.runtime.cron.clock = clock
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            await clock.parked(len(app.runtime.cron.jobs))
            yield app


async def tick(app: Motia, clock: FakeClock, seconds: float = 1) -> None:
    """Move ``seconds`` ahead and wait for the runs that started to finish."""
    await clock.advance(seconds)
    for job in app.runtime.cron.jobs:
        if job.running is not None:
            await job.running


async def test_every_second_cron_runs_each_second_with_its_context(clock: FakeClock) -> None:
    runs: list[tuple[datetime, str, object, str]] = []

    async def handler(ctx: Any) -> None:
        runs.append((clock.now(), ctx.trigger.type, ctx.trigger.expression, ctx.trace_id))

    definition = step({"name": "Tick", "triggers": [cron("* * * * * *")]}, handler)
    async with serving(clock, definition) as app:
        for _ in range(3):
            await tick(app, clock)
    assert [moment for moment, *_ in runs] == at(1, 2, 3)
    assert all(kind == "cron" and expression == "* * * * * *" for _, kind, expression, _ in runs)
    assert len({trace for *_, trace in runs}) == 3


async def test_five_field_expressions_fire_on_the_minute(clock: FakeClock) -> None:
    runs: list[datetime] = []

    async def handler() -> None:
        runs.append(clock.now())

    definition = step({"name": "Every5", "triggers": [cron("*/5 * * * *")]}, handler)
    async with serving(clock, definition) as app:
        await tick(app, clock, 299)
        assert runs == []
        await tick(app, clock, 1)
        await tick(app, clock, 600)
    assert runs == at(300, 600, 900)


async def test_handlers_may_take_no_arguments(clock: FakeClock) -> None:
    runs: list[int] = []
    definition = step({"name": "Tick", "triggers": [cron("* * * * * *")]}, lambda: runs.append(1))
    async with serving(clock, definition) as app:
        await tick(app, clock)
    assert runs == [1]


async def test_a_false_condition_skips_the_run(clock: FakeClock) -> None:
    checked: list[datetime] = []
    runs = []

    async def handler() -> None:
        runs.append(1)

    def condition(input: Any, ctx: Any) -> bool:
        checked.append(clock.now())
        return False

    trigger = cron("* * * * * *", condition=condition)
    async with serving(clock, step({"name": "Tick", "triggers": [trigger]}, handler)) as app:
        await tick(app, clock)
        await tick(app, clock)
    assert checked == at(1, 2)
    assert runs == []


async def test_a_run_still_going_is_not_doubled(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    started: list[datetime] = []
    began, release = anyio.Event(), anyio.Event()

    async def handler() -> None:
        started.append(clock.now())
        began.set()
        await release.wait()

    definition = step({"name": "Slow", "triggers": [cron("* * * * * *")]}, handler)
    with caplog.at_level(logging.WARNING, logger="motia.cron"):
        async with serving(clock, definition) as app:
            await clock.advance(1)
            await began.wait()
            await clock.advance(2)
            release.set()
            await tick(app, clock, 0)
            await tick(app, clock)
    assert started == at(1, 4)
    assert [r.getMessage() for r in caplog.records if r.name == "motia.cron"] == [
        f"cron step 'Slow' still running at {moment}; this tick is skipped" for moment in at(2, 3)
    ]


async def test_a_failing_run_is_logged_and_later_ticks_still_fire(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    runs: list[datetime] = []

    async def handler() -> None:
        runs.append(clock.now())
        raise RuntimeError("boom")

    definition = step({"name": "Failing", "triggers": [cron("* * * * * *")]}, handler)
    async with serving(clock, definition) as app:
        await tick(app, clock)
        await tick(app, clock)
    assert runs == at(1, 2)
    failures = [r for r in caplog.records if r.getMessage() == "cron step 'Failing' failed"]
    assert len(failures) == 2


async def test_the_system_clock_is_utc_and_sleeps_until_the_moment() -> None:
    now = SYSTEM_CLOCK.now()
    assert now.tzinfo is UTC
    with anyio.fail_after(5):
        await SYSTEM_CLOCK.sleep_until(now - timedelta(hours=1))
        await SYSTEM_CLOCK.sleep_until(now + timedelta(milliseconds=20))
    assert SYSTEM_CLOCK.now() >= now + timedelta(milliseconds=19)


async def test_http_requests_are_served_while_cron_runs(clock: FakeClock) -> None:
    runs: list[datetime] = []
    definition = step(
        {"name": "Tick", "triggers": [cron("* * * * * *")]}, lambda: runs.append(clock.now())
    )
    async with serving(clock, definition) as app:
        transport = httpx.ASGITransport(app.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await tick(app, clock)
            assert (await client.get("/missing")).status_code == 404
            await tick(app, clock)
    assert runs == at(1, 2)
