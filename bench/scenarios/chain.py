"""Scenario 11: the order chain end to end, at the highest rate it sustains.

``POST /orders`` -> queue -> state increment -> stream write -> N SSE subscribers. motia
serves it from ``bench/steps/chain`` on the memory, SQLite and Redis stores (the queue
lives where the store does); the peer is FastAPI + arq + sse-starlette (``chain_peer`` and
its worker process ``chain_worker``). Each sample is one climb of the rate ladder on a fresh
server: open-loop orders at each rate, every subscriber checked for every id; the climb
stops at the first rate that is not answered in full with p99 < 50 ms and nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil

from bench import aio
from bench.apps.chain_peer import QUEUE, REDIS_DB
from bench.config import Config
from bench.deliveries import MARKERS, PATTERNS, PEER, check, ids_by_arrival
from bench.ladder import Step, climb, sustained
from bench.load.arrivals import OrderStream, Tally, subscribe
from bench.load.orders import OrderSender, offer, order_request
from bench.sampling import APPS, Sample, interleave, report, self_cpu
from bench.server import ROOT, SERVER_CORE, Server, pinned, serve, stop
from bench.stats import bar, ratios, summary

SIDES = ("motia", "motia-sqlite", "motia-redis", "fastapi-arq")
STORES = {"motia": "memory", "motia-sqlite": "sqlite", "motia-redis": "redis"}
BARS_AT = 100
"""Subscribers at which the bars apply."""
RATE_BARS = {"motia": 1_000, "motia-sqlite": 500, "motia-redis": 500}
TIMES_PEER = 5.0
P99_LIMIT_MS = 50.0
FIXED_RATE = 100
"""The moderate rate whose p50 and p99 are reported for every side."""
PATH = "/streams/orders/all"
CONNECTIONS = 64
GRACE = 2.0
"""Seconds after the last send for the answers and deliveries of a step."""
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"

CpuClock = Callable[[], float]


def run(config: Config) -> list[dict[str, Any]]:
    title = "11. Order chain"
    missing = _redis_missing()
    if missing:
        return [{"id": "chain", "title": title, "skipped": missing, "bars": []}]
    rounds = min(config.rounds, config.chain_rounds)
    results = []
    for count in config.chain_subscribers:

        def measure(side: str, count: int = count) -> Sample:
            return _sample(side, count, config)

        samples = interleave(SIDES, rounds, measure)
        result = report(samples, "orders/s sustained")
        result.update(
            id=f"chain_{count}",
            title=f"{title}, {count:,} SSE subscriber(s): orders/s sustained with p99 < "
            f"{P99_LIMIT_MS:g} ms, nothing lost",
            bars=_bars(samples) if count == BARS_AT else [],
        )
        results.append(result)
    return results


def _bars(samples: dict[str, list[Sample]]) -> list[dict[str, Any]]:
    rates = {side: [s.value for s in runs] for side, runs in samples.items()}
    found = []
    for side, target in RATE_BARS.items():
        median = summary(rates[side])["median"]
        found.append(bar(f"{side} orders/s >= {target:,}", median, target))
    for side in RATE_BARS:
        times = ratios(rates[side], rates[PEER])["median"]
        found.append(bar(f"{side} / {PEER} >= {TIMES_PEER:g}", times, TIMES_PEER))
    return found


def _redis_missing() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:
        return f"no Redis on 127.0.0.1:6379 for the Redis store and the arq peer ({exc})"
    return None


def _sample(side: str, subscribers: int, config: Config) -> Sample:
    budget = 60 + len(config.chain_rates) * (config.chain_step_seconds + GRACE + 15)
    with _serving(side) as (server, cpu):
        wire = "motia" if side in STORES else PEER
        steps = aio.run(_climb(server.port, subscribers, wire, cpu, config), timeout=budget)
    return _summary(steps)


@contextlib.contextmanager
def _serving(side: str) -> Iterator[tuple[Server, CpuClock]]:
    """The side's server (and the peer's worker), with a clock of all their CPU seconds."""
    if side in ("motia-redis", PEER):
        _flush()
    with tempfile.TemporaryDirectory() as project:
        if side in STORES:
            with serve(APPS["motia"], env=_motia_env(side, project)) as server:
                yield server, server.cpu_seconds
            return
        env = {"BENCH_REDIS_DB": str(REDIS_DB)}
        with serve("bench.apps.chain_peer:app", env=env) as server, _worker(env) as worker:
            yield server, lambda: server.cpu_seconds() + _cpu(worker)


def _motia_env(side: str, project: str) -> dict[str, str]:
    return {"BENCH_STEPS": str(ROOT / "bench" / "steps" / "chain"), "BENCH_PROJECT": project,
            "BENCH_STORE": STORES[side], "BENCH_REDIS_URL": REDIS_URL}  # fmt: skip


def _flush() -> None:
    """Empty the bench's own Redis database (never another one)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def _worker(env: dict[str, str]) -> Iterator[psutil.Process]:
    """The arq worker, on the server's core: the peer gets one core for both processes."""
    command = [sys.executable, "-m", "bench.apps.chain_worker"]
    process = subprocess.Popen(
        pinned(command, SERVER_CORE), cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_worker_ready(process)
        yield psutil.Process(process.pid)
    finally:
        stop(process)


def _wait_worker_ready(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """arq writes its health-check key as its polling loop starts."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    deadline = time.monotonic() + timeout
    try:
        while not client.exists(f"{QUEUE}:health-check"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the arq worker did not start (exit {process.returncode})")
            time.sleep(0.02)
    finally:
        client.close()


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def _climb(
    port: int, subscribers: int, wire: str, cpu: CpuClock, config: Config
) -> list[Step]:
    tally = Tally()
    streams = await subscribe(port, PATH, subscribers, MARKERS[wire], tally)
    sender = OrderSender(port, CONNECTIONS)
    await sender.open()
    serial = itertools.count()
    await _warm_up(sender, config.chain_rates[0])

    async def attempt(rate: float) -> Step:
        ids = [f"o{next(serial)}" for _ in range(round(rate * config.chain_step_seconds))]
        return await _step(rate, ids, sender, streams, tally, cpu, PATTERNS[wire])

    try:
        return await climb(config.chain_rates, attempt, P99_LIMIT_MS)
    finally:
        sender.close()
        for stream in streams:
            stream.close()


async def _warm_up(sender: OrderSender, rate: float, seconds: float = 0.5) -> None:
    """Orders whose ids the subscribers do not count: imports, caches and connections."""
    requests = [order_request(f"w{i}") for i in range(round(rate * seconds))]
    await offer(sender, requests, rate)
    await _answered(sender, len(requests))


async def _answered(sender: OrderSender, total: int) -> None:
    deadline = time.monotonic() + GRACE
    while sender.answers() < total and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def _step(
    rate: float,
    ids: list[str],
    sender: OrderSender,
    streams: list[OrderStream],
    tally: Tally,
    cpu: CpuClock,
    pattern: re.Pattern[bytes],
) -> Step:
    requests = [order_request(i) for i in ids]
    for stream in streams:
        stream.chunks.clear()
    expected = tally.count + len(ids) * len(streams)
    answered = sender.answers() + len(ids)
    ok_before = _ok(sender)
    server_start, client_start, start = cpu(), self_cpu(), time.monotonic()
    due = await offer(sender, requests, rate)
    await tally.reach(expected, GRACE)
    await _answered(sender, answered)
    seconds = time.monotonic() - start
    server_cpu, client_cpu = cpu() - server_start, self_cpu() - client_start
    deliveries = check(
        dict(zip((i.encode() for i in ids), due, strict=True)),
        [ids_by_arrival(stream.chunks, pattern) for stream in streams],
    )
    return Step(rate, len(ids), _ok(sender) - ok_before, deliveries, server_cpu,
                client_cpu / seconds, seconds)  # fmt: skip


def _ok(sender: OrderSender) -> int:
    return sum(n for status, n in sender.statuses.items() if 200 <= status < 300)


def _summary(steps: list[Step]) -> Sample:
    """The sustained rate, latency at the fixed rate, CPU per order at the sustained rate."""
    best = sustained(steps, P99_LIMIT_MS)
    fixed = next((s for s in steps if s.rate == FIXED_RATE), None)
    failed = next((s for s in steps if s.failure(P99_LIMIT_MS)), None)
    extra: dict[str, Any] = {
        "p50_ms": fixed.deliveries.p(50) if fixed else float("nan"),
        "p99_ms": fixed.deliveries.p(99) if fixed else float("nan"),
        "cpu_ms_per_order": best.server_cpu_s / best.sent * 1000 if best else float("nan"),
        "failed_at": f"{failed.rate:g}/s: {failed.failure(P99_LIMIT_MS)}" if failed else "",
        "steps": [_described(s) for s in steps],
    }
    server_busy = best.server_cpu_s / best.seconds if best else float("nan")
    client_busy = max(s.client_busy for s in steps)
    return Sample(best.rate if best else 0.0, server_busy, client_busy, extra)


def _described(step: Step) -> dict[str, Any]:
    return {
        "rate": step.rate,
        "p50_ms": step.deliveries.p(50),
        "p99_ms": step.deliveries.p(99),
        "server_cpu_ms_per_order": step.server_cpu_s / step.sent * 1000,
        "client_cpu": step.client_busy,
        "failure": step.failure(P99_LIMIT_MS),
        "retried": step.retried,
    }
