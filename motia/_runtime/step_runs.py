"""Running a step for a trigger that is not HTTP: context, condition, handler."""

from __future__ import annotations

from typing import Any

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
) -> Any:
    """Run ``step``'s handler for one firing; exceptions reach the caller."""
    ctx = runtime.context(step.name, info, trace_id or new_trace_id(), input)
    token = current_context.set(ctx)
    try:
        if not await condition_met(condition, input, ctx):
            ctx.logger.debug(f"{info.type} trigger condition not met; skipped")
            return SKIPPED
        return await call_handler(step.handler, input, ctx)
    finally:
        current_context.reset(token)
