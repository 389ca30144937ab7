"""``Metrics``: one app's Prometheus metrics, in the text format scrapers read.

Events are counted where they happen (requests, step runs and their errors, queue
retries, dead letters and waits); what is live (open streams, subscribers, replay
buffers, the runtime's own counters, and the queues' depths and lags as last read in
the background) is set into gauges just before a scrape, and every few seconds
besides when several workers share the numbers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``motia start --workers N`` sets it), every
worker writes its values to files there and a scrape answered by any worker adds
them up (the client library's multiprocess mode): counters and histograms sum over
workers, live gauges sum over the workers still running (a dead worker's are dropped at
the next scrape), and the queue gauges, which every worker reads from the same backend,
take the most recent reading.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

__all__ = ["MULTIPROCESS_ENV", "EndpointMetrics", "Metrics", "forget_dead_workers"]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_QUEUE_GAUGES = {
    "depth": "Messages waiting to be claimed",
    "in_flight": "Messages being handled (leased)",
    "retries": "Messages waiting for another attempt after failing",
    "dead": "Messages in the dead-letter queue",
    "lag_seconds": "Seconds the oldest due message not yet handled has waited",
}
_WAIT_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, float("inf"),
)  # fmt: skip


class Metrics:
    """The metrics of one app; ``render()`` is a scrape's body."""

    def __init__(self, counters: Iterable[str] = (), gauges: Iterable[str] = ()) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "motia_http_requests", "HTTP requests answered by a step",
            ["step", "method", "status"], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "motia_http_request_duration_seconds", "Time from a request to its response's end",
            ["step", "method"], registry=registry,
        )  # fmt: skip
        self.step_runs = Counter(
            "motia_step_runs", "Handler runs, by step and trigger", ["step", "trigger"],
            registry=registry,
        )  # fmt: skip
        self.step_errors = Counter(
            "motia_step_errors", "Handler runs that raised, by step and trigger",
            ["step", "trigger"], registry=registry,
        )  # fmt: skip
        self.queue_retried = Counter(
            "motia_queue_retried", "Failed attempts scheduled for a retry", ["topic"],
            registry=registry,
        )  # fmt: skip
        self.queue_dead_lettered = Counter(
            "motia_queue_dead_lettered", "Messages moved to the dead-letter queue", ["topic"],
            registry=registry,
        )  # fmt: skip
        self.queue = {
            name: Gauge(
                f"motia_queue_{name}",
                text,
                ["topic"],
                registry=registry,
                multiprocess_mode="mostrecent",
            )
            for name, text in _QUEUE_GAUGES.items()
        }
        self._topics: set[str] = set()
        self.queue_wait = Histogram(
            "motia_queue_wait_seconds",
            "Time from a message being due (enqueued, or its delay or backoff over) to a "
            "handler taking it", ["topic"], buckets=_WAIT_BUCKETS, registry=registry,
        )  # fmt: skip
        self._waits: dict[str, Any] = {}
        self.connections = _live_gauge(
            "motia_stream_connections", "Open stream connections", ["transport"], registry
        )
        self.subscribers = _live_gauge(
            "motia_stream_subscribers", "Stream subscriptions", ["transport"], registry
        )
        self.replay_bytes = _live_gauge(
            "motia_stream_replay_buffer_bytes", "Bytes the stream replay buffers hold", [], registry
        )
        self.runtime_counters = {
            name: Counter(f"motia_{name}", _help(name), registry=registry) for name in counters
        }
        self.runtime_gauges = {
            name: _live_gauge(f"motia_{name}", _help(name), [], registry) for name in gauges
        }
        self._counted: dict[str, int] = dict.fromkeys(self.runtime_counters, 0)

    # -- events ---------------------------------------------------------------------------

    def endpoint(self, step: str, method: str) -> EndpointMetrics:
        """What one HTTP step's requests count into, its label lookups done once."""
        return EndpointMetrics(self, step, method)

    def step_run(self, step: str, trigger: str) -> None:
        self.step_runs.labels(step, trigger).inc()

    def step_error(self, step: str, trigger: str) -> None:
        self.step_errors.labels(step, trigger).inc()

    def retried(self, topic: str) -> None:
        self.queue_retried.labels(topic).inc()

    def dead_lettered(self, topic: str) -> None:
        self.queue_dead_lettered.labels(topic).inc()

    def waited(self, topic: str, seconds: float) -> None:
        """A handler took a message of ``topic`` that had been due for ``seconds``."""
        histogram = self._waits.get(topic)
        if histogram is None:
            histogram = self._waits[topic] = self.queue_wait.labels(topic)
        histogram.observe(seconds)

    # -- live values ----------------------------------------------------------------------

    def runtime_values(self, values: Mapping[str, int]) -> None:
        """The runtime's own counters and gauges, as read now."""
        for name, value in values.items():
            gauge = self.runtime_gauges.get(name)
            if gauge is not None:
                gauge.set(value)
                continue
            counter = self.runtime_counters.get(name)
            if counter is not None and value > self._counted[name]:
                counter.inc(value - self._counted[name])
                self._counted[name] = value

    def streams(
        self, connections: Mapping[str, int], subscribers: Mapping[str, int], replay_bytes: int
    ) -> None:
        for transport, count in connections.items():
            self.connections.labels(transport).set(count)
        for transport, count in subscribers.items():
            self.subscribers.labels(transport).set(count)
        self.replay_bytes.set(replay_bytes)

    def queues(self, by_topic: Mapping[str, Mapping[str, float]]) -> None:
        """Per topic: ``depth``, ``in_flight``, ``retries``, ``dead`` and ``lag_seconds``."""
        for topic in self._topics | set(by_topic):
            row = by_topic.get(topic, {})
            for name, gauge in self.queue.items():
                gauge.labels(topic).set(row.get(name, 0))
        self._topics |= set(by_topic)

    # -- scraping -------------------------------------------------------------------------

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """Every metric (every worker's in multiprocess mode) and its content type, in the
        format the scraper's ``Accept`` asks for: Prometheus text, or OpenMetrics."""
        encode, content_type = choose_encoder(accept)
        if not self.multiprocess:
            return encode(self.registry), content_type
        forget_dead_workers(Path(os.environ[MULTIPROCESS_ENV]))
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return encode(combined), content_type


def forget_dead_workers(folder: Path) -> None:
    """Drop the live gauges of workers that died (the supervisor starts new ones), so that
    their last open streams and subscribers stop counting; their counters still do."""
    pids = {int(path.stem.rsplit("_", 1)[1]) for path in folder.glob("gauge_live*_*.db")}
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EndpointMetrics:
    """One HTTP step's request counts (by status) and latencies."""

    __slots__ = ("_by_status", "_latency", "_metrics", "_runs", "method", "step")

    def __init__(self, metrics: Metrics, step: str, method: str) -> None:
        self._metrics = metrics
        self.step = step
        self.method = method
        self._by_status: dict[int, Any] = {}
        self._latency = metrics.latency.labels(step, method)
        self._runs = metrics.step_runs.labels(step, "http")

    def ran(self) -> None:
        self._runs.inc()

    def answered(self, status: int, seconds: float) -> None:
        counter = self._by_status.get(status)
        if counter is None:
            counter = self._metrics.requests.labels(self.step, self.method, str(status))
            self._by_status[status] = counter
        counter.inc()
        self._latency.observe(seconds)


def _live_gauge(name: str, text: str, labels: list[str], registry: CollectorRegistry) -> Gauge:
    return Gauge(name, text, labels, registry=registry, multiprocess_mode="livesum")


def _help(name: str) -> str:
    return f"The runtime's {name.replace('_', ' ')} count"
