"""Motia's guards: ``is_<kind>_trigger``, ``is_<kind>_step``, ``get_<kind>_triggers``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from motia._project.triggers import (
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
)

__all__ = [
    "get_api_triggers",
    "get_cron_triggers",
    "get_http_triggers",
    "get_queue_triggers",
    "get_state_triggers",
    "get_stream_triggers",
    "is_api_step",
    "is_api_trigger",
    "is_cron_step",
    "is_cron_trigger",
    "is_event_step",
    "is_http_step",
    "is_http_trigger",
    "is_noop_step",
    "is_queue_step",
    "is_queue_trigger",
    "is_state_step",
    "is_state_trigger",
    "is_stream_step",
    "is_stream_trigger",
]

T = TypeVar("T")


def _trigger_guard(kind: type[Any]) -> Callable[[Any], bool]:
    def guard(trigger: Any) -> bool:
        return isinstance(trigger, kind)

    return guard


def _step_guard(kind: type[Any]) -> Callable[[Any], bool]:
    def guard(step: Any) -> bool:
        return any(isinstance(t, kind) for t in step.config.triggers)

    return guard


def _getter(kind: type[T]) -> Callable[[Any], list[T]]:
    def get(step: Any) -> list[T]:
        return [t for t in step.config.triggers if isinstance(t, kind)]

    return get


is_http_trigger = is_api_trigger = _trigger_guard(HttpTrigger)
is_queue_trigger = _trigger_guard(QueueTrigger)
is_cron_trigger = _trigger_guard(CronTrigger)
is_state_trigger = _trigger_guard(StateTrigger)
is_stream_trigger = _trigger_guard(StreamTrigger)

is_http_step = is_api_step = _step_guard(HttpTrigger)
is_queue_step = is_event_step = _step_guard(QueueTrigger)
is_cron_step = _step_guard(CronTrigger)
is_state_step = _step_guard(StateTrigger)
is_stream_step = _step_guard(StreamTrigger)

get_http_triggers = get_api_triggers = _getter(HttpTrigger)
get_queue_triggers = _getter(QueueTrigger)
get_cron_triggers = _getter(CronTrigger)
get_state_triggers = _getter(StateTrigger)
get_stream_triggers = _getter(StreamTrigger)


def is_noop_step(step: Any) -> bool:
    return not step.config.triggers
