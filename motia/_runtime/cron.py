"""The cron scheduler: fires each cron job at the ticks of its schedule.

Each cron trigger gets one sleeping task that wakes at the next tick. A run
still going when the next tick comes is not doubled (the tick is skipped and
logged); ticks missed while the process was down are not replayed. A
``claim(key)`` hook decides which process runs a tick when several share work.
Time comes from a ``Clock``: the system's, or a test's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from motia._project.cron_schedule import CronSchedule
from motia._runtime.clock import SYSTEM_CLOCK, Clock
from motia.backends.cron_lock import Claim, local_claim

__all__ = ["CronJob", "CronScheduler"]

log = logging.getLogger("motia.cron")


class CronJob:
    """One cron trigger of one step: ``run`` is called once per tick."""

    def __init__(self, name: str, schedule: CronSchedule, run: Callable[[], Awaitable[None]]):
        self.name = name
        self.schedule = schedule
        self.run = run
        self.running: asyncio.Task[None] | None = None


class CronScheduler:
    def __init__(
        self,
        jobs: list[CronJob],
        *,
        claim: Claim = local_claim,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.jobs = jobs
        self.claim = claim
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._loop(job)) for job in self.jobs]

    async def stop(self, timeout: float) -> None:
        for task in self._tasks:
            task.cancel()
        running = [job.running for job in self.jobs if job.running is not None]
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if running:
            _, pending = await asyncio.wait(running, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self, job: CronJob) -> None:
        tick = job.schedule.next_after(self.clock.now())
        while True:
            await self.clock.sleep_until(tick)
            await self._fire(job, tick)
            tick = job.schedule.next_after(max(tick, self.clock.now()))

    async def _fire(self, job: CronJob, tick: datetime) -> None:
        if job.running is not None and not job.running.done():
            log.warning(
                "cron step %r still running at %s; this tick is skipped",
                job.name,
                tick,
                extra={"step": job.name},
            )
            return
        if not await self.claim(f"{job.name}:{job.schedule.expression}:{tick.isoformat()}"):
            return
        job.running = asyncio.get_running_loop().create_task(self._run(job))

    async def _run(self, job: CronJob) -> None:
        try:
            await job.run()
        except Exception:
            log.exception("cron step %r failed", job.name, extra={"step": job.name})
