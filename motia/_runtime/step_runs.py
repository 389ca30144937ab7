"""Running a step for a trigger that is not HTTP: span, context, condition, handler."""

from __future__ import annotations

from typing import Any

from motia._core.spans import Tracing
from motia._core.tracing import new_trace_id
from motia._project.handlers import call_handler
from motia._project.step import Step
from motia._project.triggers import TriggerCondition, TriggerInfo
from motia._runtime.current import current_context
from motia._runtime.invoke import condition_met
from motia._runtime.protocol import StepHost

__all__ = ["SKIPPED", "run_step"]

SKIPPED: Any = object()
"""What ``run_step`` returns when the trigger's condition said no."""


async def run_step(
    runtime: StepHost,
    step: Step,
    info: TriggerInfo,
    input: Any,
    *,
    condition: TriggerCondition | None = None,
    trace_id: str | None = None,
    traceparent: str | None = None,
) -> Any:
    """Run ``step``'s handler for one firing; exceptions reach the caller.

    When the app traces, the run is the span ``step:<name>``: the child of
    ``traceparent`` (a queue message's sender), else of the current span (the write
    that fired a state or stream trigger), else a new trace's root (cron); the
    handler's trace id is then the span's.
    """
    tracing = runtime.tracing
    if tracing is None:
        return await _run(runtime, step, info, input, condition, trace_id or new_trace_id())
    with tracing.step(step.name, info.type, traceparent) as span:
        return await _run(runtime, step, info, input, condition, Tracing.trace_id(span))


async def _run(
    runtime: StepHost,
    step: Step,
    info: TriggerInfo,
    input: Any,
    condition: TriggerCondition | None,
    trace_id: str,
) -> Any:
    ctx = runtime.context(step.name, info, trace_id, input)
    token = current_context.set(ctx)
    try:
        if not await condition_met(condition, input, ctx):
            ctx.logger.debug(f"{info.type} trigger condition not met; skipped")
            return SKIPPED
        if runtime.metrics is not None:
            runtime.metrics.step_run(step.name, info.type)
        try:
            return await call_handler(step.handler, input, ctx)
        except Exception:
            if runtime.metrics is not None:
                runtime.metrics.step_error(step.name, info.type)
            raise
    finally:
        current_context.reset(token)
