"""``Runtime``: owns everything long-lived an app needs while it serves.

Backends, open streaming responses and background work live here, started by
the app's lifespan and stopped in order: open streams are ended first so that
no stream holds up a shutdown or a reload, then background work, then
backends. Open streams are ended as soon as the host server begins to shut down
(``host_shutdown``), since its lifespan shutdown only comes once they are closed.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import weakref
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from motia._core.spans import Tracing
from motia._project.registry import Registry
from motia._project.stream_config import StreamConfig
from motia._project.triggers import TriggerInfo
from motia._runtime.body_budget import BodyBudget
from motia._runtime.change_triggers import ChangeTriggers
from motia._runtime.context import FlowContext
from motia._runtime.cron import CronScheduler
from motia._runtime.cron_steps import cron_jobs
from motia._runtime.host_shutdown import host_server, watch_host
from motia._runtime.hub import Hub, ReplayLimits
from motia._runtime.live_metrics import publish_every, read_live
from motia._runtime.open_streams import OpenStreams
from motia._runtime.state import StateManager
from motia._runtime.stats import Stats
from motia._runtime.step_runs import run_step
from motia._runtime.streams import Streams
from motia._runtime.sync_calls import release_twin
from motia.backends.base import Store
from motia.backends.cron_lock import tick_claim
from motia.backends.memory_queue import MemoryQueue
from motia.backends.queue import QueueBackend
from motia.queues.service import QueueService
from motia.settings import Settings

if TYPE_CHECKING:
    from motia._core.metrics import Metrics

__all__ = ["Runtime", "shutdown_all"]

log = logging.getLogger("motia.runtime")
_running: weakref.WeakSet[Runtime] = weakref.WeakSet()
_PUBLISH_SECONDS = 2.0
"""How often each worker refreshes its share of the live metrics (multiprocess mode)."""


def shutdown_all() -> None:
    """Called by the server on SIGINT/SIGTERM: end every open stream of every app."""
    for runtime in list(_running):
        runtime.end_streams()


class Runtime:
    def __init__(
        self,
        registry: Registry,
        settings: Settings,
        store: Store,
        stream_auth: Any = None,
        queue: QueueBackend | None = None,
        *,
        tracing: Tracing | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.store = store
        self.stream_auth = stream_auth
        self.tracing = tracing
        self.metrics = metrics
        self.stats = Stats()
        self.responses = OpenStreams()
        self.body_budget = BodyBudget(settings.max_body_memory)
        self.triggers = ChangeTriggers(self, registry.steps)
        on_change = self.triggers.on_change if self.triggers else None
        self.state = StateManager(store, on_change, tracing)
        configs: list[StreamConfig] = list(registry.streams.values())
        self.streams = Streams.from_configs(configs, store, on_change, tracing)
        self.cron = CronScheduler(cron_jobs(self, registry.steps), claim=tick_claim(store))
        self.hub = Hub(
            store,
            self.streams,
            replay=ReplayLimits(
                settings.replay_messages, settings.replay_bytes, settings.replay_total_bytes
            ),
            idle_topics=settings.replay_idle_groups,
            idle_timeout=settings.replay_idle_timeout,
            stats=self.stats,
        )
        run_queued = functools.partial(run_step, self)
        self.queues = QueueService(
            registry.steps,
            queue or MemoryQueue(),
            settings,
            run_queued,
            tracing=tracing,
            metrics=metrics,
            count_refusal=self.stats.hit,
        )
        self.started = False

    # -- lifecycle ------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        await self.store.open()
        await self.queues.start()
        self.hub.start()
        _running.add(self)
        self.cron.start()
        publishing = self._publish_metrics()
        self.started = True
        watcher = self._watch_host()
        # What is alive once serving starts (modules, steps, the app) stays alive: a full
        # collection need not walk it again, which would stop the loop for 50-150 ms.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if publishing is not None:
                publishing.cancel()
            if watcher is not None:
                watcher.cancel()
            self.end_streams()
            await self._wait_streams_closed()
            await self.cron.stop(self.settings.graceful_timeout)
            await self.triggers.drain(self.settings.graceful_timeout)
            await self.queues.stop()
            _running.discard(self)
            self.started = False
            self.hub.stop()
            await release_twin(self.store)
            await self.store.close()

    async def metrics_text(self, accept: str = "") -> tuple[bytes, str]:
        """A scrape's body and content type: the live values read now, then every metric."""
        if self.metrics is None:
            raise RuntimeError("this app serves no metrics (Settings.metrics is off)")
        read_live(self.metrics, self.stats, self.hub, self.queues)
        return self.metrics.render(accept)

    def _publish_metrics(self) -> asyncio.Task[None] | None:
        """With workers sharing metrics, each keeps its live values fresh on a timer."""
        if self.metrics is None or not self.metrics.multiprocess:
            return None
        publish = publish_every(_PUBLISH_SECONDS, self.metrics, self.stats, self.hub, self.queues)
        return asyncio.get_running_loop().create_task(publish)

    def _watch_host(self) -> asyncio.Task[None] | None:
        """End open streams as soon as the host server begins to shut down."""
        server = host_server()
        if server is None:
            return None
        return self._loop.create_task(watch_host(server, self._end_streams))

    def end_streams(self) -> None:
        """End every open streaming response (thread-safe: signal handlers call it)."""
        loop = getattr(self, "_loop", None)
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._end_streams)

    def _end_streams(self) -> None:
        if self.responses and not self.hub.closing:
            log.info("ending %d open stream(s) for shutdown", len(self.responses))
        self.hub.shutdown()
        self.responses.shutdown()

    async def _wait_streams_closed(self) -> None:
        deadline = self.settings.graceful_timeout
        try:
            async with asyncio.timeout(deadline):
                while self.responses or self.hub.sinks:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            still_open = len(self.responses) + len(self.hub.sinks)
            log.warning("%d stream(s) still open after %.1fs", still_open, deadline)

    # -- what handlers get ------------------------------------------------------------

    def context(
        self, step_name: str, trigger: TriggerInfo, trace_id: str, input: Any
    ) -> FlowContext[Any]:
        return FlowContext(
            trace_id=trace_id,
            trigger=trigger,
            step_name=step_name,
            enqueuer=self._enqueue_for,
            state=self.state,
            streams=self.streams,
            input_value=input,
            sync_call_timeout=self.settings.sync_call_timeout,
        )

    async def enqueue(
        self, event: Any, *, step: str | None = None, trace_id: str | None = None
    ) -> str:
        """Queue ``event`` for every subscriber of its topic; return the message id."""
        return await self.queues.enqueue(event, step=step, trace_id=trace_id)

    def _enqueue_for(self, event: Any, ctx: FlowContext[Any]) -> Coroutine[Any, Any, str]:
        return self.enqueue(event, step=ctx.step_name, trace_id=ctx.trace_id)
