"""The arq worker of the order chain: ``INCRBY`` the running total, ``PUBLISH`` the order.

Run as ``python -m bench.apps.chain_worker`` (not arq's CLI, whose INFO log line per job
would cost the peer CPU nobody pays in production). Environment: ``BENCH_REDIS_DB``.
"""

from __future__ import annotations

import json
from typing import Any

from arq import run_worker
from arq.connections import RedisSettings

from bench.apps.chain_peer import CHANNEL, QUEUE, SETTINGS


async def process_order(ctx: dict[str, Any], order: dict[str, Any]) -> None:
    redis = ctx["redis"]
    total = await redis.incrby("chain:orders:total", order["qty"])
    await redis.publish(CHANNEL, json.dumps({**order, "total": total}, separators=(",", ":")))


class WorkerSettings:
    functions = [process_order]
    redis_settings: RedisSettings = SETTINGS
    queue_name = QUEUE
    max_jobs = 100
    poll_delay = 0.005
    keep_result = 0
    log_results = False
    handle_signals = True


if __name__ == "__main__":
    run_worker(WorkerSettings)  # type: ignore[arg-type]
