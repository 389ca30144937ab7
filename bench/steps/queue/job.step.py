"""The no-op queue step: records when each message arrived."""

from typing import Any

from bench.apps.probe import job_done
from motia import FlowContext, queue

config = {"name": "BenchJob", "flows": ["bench"], "triggers": [queue("bench.job")]}


async def handler(data: dict[str, Any], ctx: FlowContext[Any]) -> None:
    job_done(data["t"])
