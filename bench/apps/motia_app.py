"""The motia runtime serving the bench steps (``bench/steps/http`` unless told otherwise).

Environment: ``BENCH_STEPS`` (steps folder), ``BENCH_STORE`` (``memory`` unless told:
``sqlite`` or ``redis``), ``BENCH_QUEUE`` (``memory``, ``sqlite`` or ``redis``; unset, the
queue lives where the store does), ``BENCH_REDIS_URL`` and ``BENCH_PROJECT`` (where the SQLite
file lives).
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.apps import payloads as p
from bench.apps.probe import Probe
from motia import Motia
from motia.settings import Settings

HERE = Path(__file__).resolve().parent.parent
STEPS = Path(os.environ.get("BENCH_STEPS", HERE / "steps" / "http")).resolve()
PROJECT = Path(os.environ.get("BENCH_PROJECT", STEPS.parent))

motia = Motia(
    steps_dir=STEPS,
    project_dir=PROJECT,
    store=os.environ.get("BENCH_STORE", "memory"),
    queue=os.environ.get("BENCH_QUEUE") or None,
    redis_url=os.environ.get("BENCH_REDIS_URL") or None,
    settings=Settings(heartbeat_interval=p.HEARTBEAT),
)
app = Probe(motia.asgi())
