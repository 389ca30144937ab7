"""Motia's ``motia.triggers`` import path: the trigger declarations."""

from motia._project.triggers import (
    ApiTrigger,
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
    Trigger,
    TriggerCondition,
    api,
    cron,
    http,
    queue,
    state,
    stream,
)

__all__ = [
    "ApiTrigger",
    "CronTrigger",
    "HttpTrigger",
    "QueueTrigger",
    "StateTrigger",
    "StreamTrigger",
    "Trigger",
    "TriggerCondition",
    "api",
    "cron",
    "http",
    "queue",
    "state",
    "stream",
]
