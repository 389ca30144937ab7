"""Scenario 8: queue throughput, ``ctx.enqueue`` -> a no-op queue step, and arq on Redis.

A burst of N messages is enqueued one after another (by an HTTP step for
motia, by the arq client for arq); throughput is N over the time from the
first enqueue to the last job's end, latency is each job's start minus its
enqueue time. Skipped cleanly when enqueueing fails or Redis is not there.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import aio
from bench.config import Config
from bench.sampling import APPS, Sample, interleave, report
from bench.server import ROOT, SERVER_CORE, pinned, request, serve, stop
from bench.stats import percentile

STEPS = ROOT / "bench" / "steps" / "queue"
PEERS = ("motia", "motia-sqlite", "arq")
TIMEOUT = 120.0


class Skip(Exception):
    """The scenario cannot run here; the reason goes into the report."""


def run(config: Config) -> list[dict[str, Any]]:
    title = f"8. Queue: {config.queue_messages:,} no-op messages, messages/s"
    try:
        _precheck()
        samples = interleave(PEERS, config.rounds, lambda p: _measure(p, config.queue_messages))
    except Skip as exc:
        return [{"id": "queue", "title": title, "skipped": str(exc), "bars": []}]
    result = report(samples, "messages/s")
    result.update(id="queue", title=title + " (motia: memory and SQLite; arq: Redis)", bars=[])
    return [result]


def _precheck() -> None:
    with tempfile.TemporaryDirectory() as project, serve(APPS["motia"], env=_env(project)) as s:
        status, body = request(s.port, "POST", "/enqueue?n=1", b"")
    if status != 202:
        raise Skip(f"ctx.enqueue failed: {status} {body[:200]!r}")
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except Exception as exc:
        raise Skip(f"no Redis on 127.0.0.1:6379 for the arq peer ({exc})") from exc


def _env(project: str, backend: str = "memory") -> dict[str, str]:
    return {"BENCH_STEPS": str(STEPS), "BENCH_PROJECT": project, "BENCH_QUEUE": backend}


def _measure(peer: str, count: int) -> Sample:
    if peer == "arq":
        return _sample(aio.run(_arq(count), timeout=TIMEOUT + 30), count)
    backend = "sqlite" if peer == "motia-sqlite" else "memory"
    with (
        tempfile.TemporaryDirectory() as project,
        serve(APPS["motia"], env=_env(project, backend)) as server,
    ):
        _burst(server.port, 20)
        request(server.port, "POST", "/__bench/reset")
        jobs = _burst(server.port, count)
    return _sample(jobs, count)


def _burst(port: int, count: int) -> list[list[float]]:
    status, body = request(port, "POST", f"/enqueue?n={count}", b"", timeout=TIMEOUT)
    if status != 202:
        raise RuntimeError(f"enqueue burst answered {status}: {body[:200]!r}")
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        _, body = request(port, "GET", "/__bench/stats")
        jobs: list[list[float]] = json.loads(body)["jobs"]
        if len(jobs) >= count:
            return jobs
        time.sleep(0.05)
    raise TimeoutError(f"{count} queue jobs did not finish in {TIMEOUT}s")


async def _arq(count: int) -> list[list[float]]:
    from arq import create_pool
    from arq.connections import RedisSettings

    queue = f"bench:arq:{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "done.json"
        worker = _arq_worker(queue, count, out)
        pool = await create_pool(RedisSettings(host="127.0.0.1", port=6379))
        try:
            for _ in range(count):
                await pool.enqueue_job("noop", time.monotonic(), _queue_name=queue)
            return await _wait_file(out)
        finally:
            await pool.delete(queue)
            await pool.aclose()
            stop(worker)


def _arq_worker(queue: str, count: int, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_ARQ_QUEUE": queue, "BENCH_ARQ_COUNT": str(count),
           "BENCH_ARQ_OUT": str(out)}  # fmt: skip
    command = [sys.executable, "-m", "arq", "bench.apps.arq_worker.WorkerSettings"]
    return subprocess.Popen(
        pinned(command, SERVER_CORE), cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def _wait_file(path: Path) -> list[list[float]]:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"arq jobs did not finish in {TIMEOUT}s")
        await asyncio.sleep(0.05)
    done: list[list[float]] = json.loads(path.read_text())
    return done


def _sample(jobs: list[list[float]], count: int) -> Sample:
    """Throughput from the first enqueue to the last job; latencies in ms."""
    first = min(enqueued for enqueued, _ in jobs)
    last = max(done for _, done in jobs)
    latencies = [(done - enqueued) * 1000 for enqueued, done in jobs]
    extra = {"p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99)}
    return Sample(count / (last - first), extra=extra)
