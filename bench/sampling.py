"""Peers interleaved over rounds, each sample on a fresh server, with CPU use on both sides."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.server import Server
from bench.stats import ratios, summary

APPS = {
    "raw": "bench.apps.raw:app",
    "starlette": "bench.apps.starlette_app:app",
    "fastapi": "bench.apps.fastapi_app:app",
    "sse-starlette": "bench.apps.sse_starlette_app:app",
    "motia": "bench.apps.motia_app:app",
}
OURS = "motia"
FLOOR = "raw"
BUSY = 0.9
"""A side whose CPU use over the window is above this fraction of a core was the limit."""


@dataclass
class Sample:
    value: float
    server_cpu: float = float("nan")
    client_cpu: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Window:
    """CPU seconds each side spent over a measured window (filled in when it closes)."""

    seconds: float = 0.0
    server: float = 0.0
    client: float = 0.0

    def utilisation(self) -> tuple[float, float]:
        if self.seconds <= 0:
            return float("nan"), float("nan")
        return self.server / self.seconds, self.client / self.seconds


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def window(server: Server) -> Iterator[Window]:
    """Measure the server's and this process's CPU time over the ``with`` block."""
    measured = Window()
    server_start, client_start, start = server.cpu_seconds(), self_cpu(), time.monotonic()
    yield measured
    measured.seconds = time.monotonic() - start
    measured.server = server.cpu_seconds() - server_start
    measured.client = self_cpu() - client_start


def interleave(
    peers: Sequence[str], rounds: int, measure: Callable[[str], Sample]
) -> dict[str, list[Sample]]:
    """Round r starts at peer r (mod n), so no peer always runs first or last."""
    results: dict[str, list[Sample]] = {peer: [] for peer in peers}
    for index in range(rounds):
        shift = index % len(peers)
        for peer in [*peers[shift:], *peers[:shift]]:
            results[peer].append(measure(peer))
    return results


def bound(server_cpu: float, client_cpu: float) -> str:
    busy = [side for side, cpu in (("server", server_cpu), ("client", client_cpu)) if cpu > BUSY]
    return "+".join(busy) or "neither"


def report(samples: dict[str, list[Sample]], unit: str) -> dict[str, Any]:
    """Per-peer medians and min-max, CPU use, and motia's round-by-round ratio to each peer."""
    peers = {}
    for peer, runs in samples.items():
        server_cpu = summary([s.server_cpu for s in runs])["median"]
        client_cpu = summary([s.client_cpu for s in runs])["median"]
        peers[peer] = {
            **summary([s.value for s in runs]),
            "samples": [s.value for s in runs],
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
            "cpu_bound": bound(server_cpu, client_cpu),
            "extra": [s.extra for s in runs],
        }
    ours = [s.value for s in samples.get(OURS, [])]
    versus = {
        peer: ratios(ours, [s.value for s in runs])
        for peer, runs in samples.items()
        if peer != OURS and ours
    }
    floor = [s.value for s in samples.get(FLOOR, [])]
    of_floor = {
        peer: ratios([s.value for s in runs], floor)
        for peer, runs in samples.items()
        if peer != FLOOR and floor
    }
    result = {"unit": unit, "peers": peers, "ratios": versus, "of_raw": of_floor}
    if all("per_cpu" in s.extra for runs in samples.values() for s in runs):
        result["ratios_per_cpu"] = _per_cpu_ratios(samples)
    return result


def _per_cpu_ratios(samples: dict[str, list[Sample]]) -> dict[str, dict[str, float]]:
    """Ratios of work per server CPU-second: steadier than throughput on a shared machine."""
    ours = [s.extra["per_cpu"] for s in samples[OURS]]
    return {
        peer: ratios(ours, [s.extra["per_cpu"] for s in runs])
        for peer, runs in samples.items()
        if peer != OURS
    }


def per_cpu(rate: float, server_cpu: float) -> float:
    """Work per server CPU-second, from a rate and the server's share of a core."""
    return rate / server_cpu if server_cpu > 0 else float("nan")
