"""How long and how big each run is: a quick preset to check the harness, a full one to report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Config:
    rounds: int
    """Rounds of interleaved peers; every sample gets a fresh server."""
    http_seconds: float
    http_warmup: float
    http_connections: int
    sse_events_one: int
    """Frames for the one-client SSE sample."""
    sse_events_each: int
    """Frames per client in the 100-client SSE sample."""
    sse_clients: int
    idle_counts: tuple[int, ...]
    fanout_counts: tuple[int, ...]
    fanout_repeats: int
    wake_counts: tuple[int, ...]
    """Idle streams, each waiting on its own queue, woken by one broadcast."""
    open_counts: tuple[int, ...]
    """Event streams opened at once that send nothing before their head."""
    resets: int
    startup_steps: int
    queue_messages: int


QUICK = Config(
    rounds=1,
    http_seconds=2,
    http_warmup=1,
    http_connections=64,
    sse_events_one=20_000,
    sse_events_each=500,
    sse_clients=100,
    idle_counts=(500,),
    fanout_counts=(200,),
    fanout_repeats=3,
    wake_counts=(200,),
    open_counts=(100,),
    resets=200,
    startup_steps=200,
    queue_messages=2_000,
)

FULL = Config(
    rounds=3,
    http_seconds=8,
    http_warmup=2,
    http_connections=64,
    sse_events_one=200_000,
    sse_events_each=3_000,
    sse_clients=100,
    idle_counts=(2_000, 10_000),
    fanout_counts=(1_000, 10_000),
    fanout_repeats=7,
    wake_counts=(1_000,),
    open_counts=(500,),
    resets=200,
    startup_steps=200,
    queue_messages=20_000,
)
