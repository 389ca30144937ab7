"""Running a step once, without an app, for a queue, cron, state or stream trigger.

Each helper picks the step's trigger of that kind, honours its condition (and a
queue trigger's ``input`` schema) as the runtime does, runs the handler with a
``FakeContext`` and returns a ``StepRun``. Handler exceptions reach the test.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from motia._core.spans import Tracing
from motia._project.handlers import NO_INPUT
from motia._project.schema import compile_schema
from motia._project.step import Step
from motia._project.trigger_inputs import StateTriggerInput, StreamTriggerInput
from motia._project.triggers import (
    CronTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
    TriggerInfo,
)
from motia._runtime.body_budget import BodyBudget
from motia._runtime.open_streams import OpenStreams
from motia._runtime.stats import Stats
from motia._runtime.step_runs import SKIPPED, run_step
from motia.settings import Settings
from motia.testing.context import FakeContext
from motia.testing.failures import fail

if TYPE_CHECKING:
    from motia._core.metrics import Metrics
from motia.testing.steps import StepLike, resolve_step, triggers_of

__all__ = ["FakeRuntime", "StepRun", "run_cron", "run_queue", "run_state", "run_stream"]


@dataclass(slots=True)
class StepRun:
    """What one run did: the handler's return value, or ``skipped`` by its condition."""

    ctx: FakeContext
    returned: Any = None
    skipped: bool = False


class FakeRuntime:
    """A ``StepHost`` (and an ``HttpHost``) whose every firing gets one ``FakeContext``."""

    def __init__(self, ctx: FakeContext, settings: Settings | None = None) -> None:
        self.ctx = ctx
        self.settings = settings or Settings(dev=True, heartbeat_interval=0)
        self.stats = Stats()
        self.responses = OpenStreams()
        self.body_budget = BodyBudget(self.settings.max_body_memory)
        self.tracing: Tracing | None = None
        self.metrics: Metrics | None = None

    def context(
        self, step_name: str, trigger: TriggerInfo, trace_id: str, input: Any
    ) -> FakeContext:
        self.ctx.trigger = trigger
        self.ctx.input_value = input
        return self.ctx


async def run_queue(
    step: StepLike,
    data: Any,
    *,
    topic: str | None = None,
    ctx: FakeContext | None = None,
    timeout: float = 5.0,
) -> StepRun:
    """Deliver ``data`` to the step's queue trigger (the one for ``topic``, if given)."""
    resolved = resolve_step(step, QueueTrigger(topic or "test"))
    index, trigger = _pick(resolved, QueueTrigger, lambda t: topic is None or t.topic == topic)
    value = compile_schema(trigger.input).validate(data) if trigger.input is not None else data
    info = TriggerInfo(type="queue", index=index, topic=trigger.topic)
    return await _run(resolved, info, value, trigger.condition, ctx, timeout)


async def run_cron(
    step: StepLike, *, ctx: FakeContext | None = None, timeout: float = 5.0
) -> StepRun:
    """Fire the step's cron trigger once."""
    resolved = resolve_step(step, CronTrigger("* * * * *"))
    index, trigger = _pick(resolved, CronTrigger)
    info = TriggerInfo(type="cron", index=index, expression=trigger.expression)
    return await _run(resolved, info, NO_INPUT, trigger.condition, ctx, timeout)


async def run_state(
    step: StepLike,
    change: StateTriggerInput | dict[str, Any],
    *,
    ctx: FakeContext | None = None,
    timeout: float = 5.0,
) -> StepRun:
    """Fire the step's state trigger with ``change`` (``group_id``, ``item_id``, values)."""
    resolved = resolve_step(step, StateTrigger())
    index, trigger = _pick(resolved, StateTrigger)
    value = StateTriggerInput.model_validate(change)
    info = TriggerInfo(type="state", index=index)
    return await _run(resolved, info, value, trigger.condition, ctx, timeout)


async def run_stream(
    step: StepLike,
    change: StreamTriggerInput | dict[str, Any],
    *,
    ctx: FakeContext | None = None,
    timeout: float = 5.0,
) -> StepRun:
    """Fire the step's trigger for ``change.stream_name``; a group/item filter that does
    not select the change skips the run, as in the app."""
    value = StreamTriggerInput.model_validate(change)
    resolved = resolve_step(step, StreamTrigger(value.stream_name))
    index, trigger = _pick(resolved, StreamTrigger, lambda t: t.stream_name == value.stream_name)
    info = TriggerInfo(type="stream", index=index)
    if not _selects(trigger, value):
        return StepRun(ctx or FakeContext(step_name=resolved.name), skipped=True)
    return await _run(resolved, info, value, trigger.condition, ctx, timeout)


async def _run(
    step: Step,
    info: TriggerInfo,
    input: Any,
    condition: Any,
    ctx: FakeContext | None,
    timeout: float,
) -> StepRun:
    ctx = ctx or FakeContext(step_name=step.name)
    try:
        async with asyncio.timeout(timeout):
            returned = await run_step(FakeRuntime(ctx), step, info, input, condition=condition)
    except TimeoutError:
        fail(f'step "{step.name}" ({info.type} trigger) still running after {timeout}s')
    if returned is SKIPPED:
        return StepRun(ctx, skipped=True)
    return StepRun(ctx, returned)


def _pick(step: Step, kind: type[Any], match: Any = None) -> tuple[int, Any]:
    found = [(i, t) for i, t in triggers_of(step, kind) if match is None or match(t)]
    if not found:
        raise ValueError(
            f'step "{step.name}" has no matching {kind.__name__}; '
            f"its triggers: {[type(t).__name__ for t in step.config.triggers]}"
        )
    return found[0]


def _selects(trigger: StreamTrigger, change: StreamTriggerInput) -> bool:
    if trigger.group_id is not None and trigger.group_id != change.group_id:
        return False
    return trigger.item_id is None or trigger.item_id == change.id
