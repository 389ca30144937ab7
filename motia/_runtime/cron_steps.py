"""Cron jobs for the cron triggers of an app's steps."""

from __future__ import annotations

import functools

from motia._project.cron_schedule import CronSchedule
from motia._project.handlers import NO_INPUT
from motia._project.step import Step
from motia._project.triggers import CronTrigger, TriggerInfo
from motia._runtime.cron import CronJob
from motia._runtime.protocol import StepHost
from motia._runtime.step_runs import run_step

__all__ = ["cron_jobs"]


def cron_jobs(runtime: StepHost, steps: list[Step]) -> list[CronJob]:
    """One job per cron trigger of every step."""
    jobs: list[CronJob] = []
    for step in steps:
        for index, trigger in enumerate(step.config.triggers):
            if isinstance(trigger, CronTrigger):
                run = functools.partial(_run_cron_step, runtime, step, index, trigger)
                jobs.append(CronJob(step.name, CronSchedule(trigger.expression), run))
    return jobs


async def _run_cron_step(runtime: StepHost, step: Step, index: int, trigger: CronTrigger) -> None:
    info = TriggerInfo(type="cron", index=index, expression=trigger.expression)
    await run_step(runtime, step, info, NO_INPUT, condition=trigger.condition)
