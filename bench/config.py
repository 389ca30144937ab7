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
    chain_subscribers: tuple[int, ...]
    """SSE subscribers of the order stream, one climb each."""
    chain_rates: tuple[int, ...]
    """The ladder of offered orders/s; the first one also warms the server up."""
    chain_step_seconds: float
    chain_rounds: int
    """Rounds of the chain climbs (fewer than the others: a climb is long)."""


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
    chain_subscribers=(1, 100),
    chain_rates=(50, 100, 200, 300, 500, 750, 1_000, 1_500),
    chain_step_seconds=1.5,
    chain_rounds=1,
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
    chain_subscribers=(1, 100, 1_000),
    chain_rates=(50, 100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000),
    chain_step_seconds=3,
    chain_rounds=2,
)
