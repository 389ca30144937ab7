"""The arq peer: a no-op job on Redis that notes when each job ran.

Environment: ``BENCH_ARQ_QUEUE`` (queue name), ``BENCH_ARQ_COUNT`` (jobs to
expect) and ``BENCH_ARQ_OUT`` (file that receives the timings once all ran).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from arq.connections import RedisSettings

DONE: list[tuple[float, float]] = []


async def noop(ctx: dict[str, Any], enqueued_at: float) -> None:
    DONE.append((enqueued_at, time.monotonic()))
    if len(DONE) == int(os.environ["BENCH_ARQ_COUNT"]):
        Path(os.environ["BENCH_ARQ_OUT"]).write_text(json.dumps(DONE))


class WorkerSettings:
    functions = [noop]
    redis_settings = RedisSettings(host="127.0.0.1", port=6379)
    queue_name = os.environ.get("BENCH_ARQ_QUEUE", "bench:arq")
    keep_result = 0
    max_jobs = 100
    poll_delay = 0.01
