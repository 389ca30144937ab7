"""Queues as the console shows them: per topic depth, lag, in flight, retries; dead letters.

Read through the runtime's queue service when it has one (``runtime.queues``:
``dead_letters()``, ``replay()`` and, when the backend reports it,
``stats()``). What a backend does not report is derived from the recorded
step runs (in flight, failed attempts) or left out, never guessed.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from motia._project.step import Step
from motia._project.triggers import QueueTrigger
from motia._runtime.invoke import maybe_await
from motia.console.runs import Run
from motia.queues.backlog import Backlog

__all__ = ["queue_overview", "replay_dead_letters"]


async def queue_overview(runtime: object, steps: list[Step], runs: list[Run]) -> dict[str, Any]:
    service = getattr(runtime, "queues", None)
    if service is None or not hasattr(service, "dead_letters"):
        return {"available": False, "topics": [], "dead_letters": []}
    letters = [_letter(letter) for letter in await _call(service.dead_letters)]
    stats = await _stats(service)
    lags = await _lags(service)
    running, failed = _run_counts(runs)
    dead = Counter(letter["topic"] for letter in letters)
    topics = []
    for topic, subscribers in _topics(steps).items():
        reported = stats.get(topic, {}) if isinstance(stats, dict) else {}
        topics.append({
            "topic": topic,
            "subscribers": subscribers,
            "depth": reported.get("depth"),
            "in_flight": reported.get("in_flight", running[topic]),
            "retries": reported.get("retries", failed[topic]),
            "lag": lags.get(topic),
            "dead_letters": dead[topic],
        })  # fmt: skip
    return {"available": True, "backend": _backend_name(service), "topics": topics,
            "dead_letters": letters}  # fmt: skip


async def replay_dead_letters(runtime: object, ids: list[str] | None) -> list[str]:
    service = getattr(runtime, "queues", None)
    if service is None or not hasattr(service, "replay"):
        return []
    replayed: list[str] = await _call(service.replay, ids)
    return replayed


def _topics(steps: list[Step]) -> dict[str, list[str]]:
    topics: dict[str, list[str]] = {}
    for step in steps:
        for trigger in step.config.triggers:
            if isinstance(trigger, QueueTrigger):
                topics.setdefault(trigger.topic, []).append(step.name)
        for topic in step.config.enqueue_topics:
            topics.setdefault(topic, [])
    return dict(sorted(topics.items()))


def _run_counts(runs: list[Run]) -> tuple[Counter[str], Counter[str]]:
    running: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for run in runs:
        topic = run.trigger.get("topic")
        if run.trigger.get("type") != "queue" or topic is None:
            continue
        if run.status == "running":
            running[topic] += 1
        elif run.status == "error":
            failed[topic] += 1
    return running, failed


async def _stats(service: Any) -> Any:
    stats = getattr(service, "stats", None)
    if not callable(stats):
        return {}
    try:
        return await _call(stats)
    except Exception:
        return {}


async def _lags(service: Any) -> dict[str, float]:
    """Seconds each topic's oldest due message has waited, read now."""
    backlog = getattr(service, "backlog", None)
    if not isinstance(backlog, Backlog):
        return {}
    try:
        await backlog.read()
    except Exception:
        return {}
    now = time.time()
    return {topic: round(row.lag(now), 3) for topic, row in backlog.topics.items()}


async def _call(function: Any, *args: Any) -> Any:
    return await maybe_await(function(*args))


def _letter(letter: Any) -> dict[str, Any]:
    as_dict = getattr(letter, "as_dict", None)
    return dict(as_dict()) if callable(as_dict) else dict(letter)


def _backend_name(service: Any) -> str:
    backend = getattr(service, "backend", None)
    return type(backend).__name__ if backend is not None else type(service).__name__
