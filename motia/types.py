"""Motia's ``motia.types`` import path: the public types, re-exported."""

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel

from motia._http.request import ApiRequest, MotiaHttpArgs, MotiaHttpRequest
from motia._http.response import ApiResponse, MotiaHttpResponse
from motia._project.config import Enqueue, StepConfig
from motia._project.queue_config import QueueConfig
from motia._project.step import Step
from motia._project.stream_config import StreamConfig
from motia._project.trigger_inputs import StateTriggerInput, StreamEvent, StreamTriggerInput
from motia._project.triggers import (
    ApiTrigger,
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
    Trigger,
    TriggerCondition,
    TriggerInfo,
    cron,
    http,
    queue,
    state,
    stream,
)
from motia._runtime.context import FlowContext

TriggerConfig = Trigger
TriggerInput = Any
ApiRouteMethod = Literal["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]
Enqueuer = Callable[[Any], Awaitable[None]]
ApiMiddleware = Callable[
    [MotiaHttpArgs[Any], FlowContext[Any], Callable[[], Awaitable[Any]]], Awaitable[Any]
]
"""``middleware(args, ctx, next)``; ``await next()`` runs the rest of the chain."""


class QueryParam(BaseModel):
    """A documented query parameter of an HTTP trigger (``query_params=[QueryParam(...)]``)."""

    name: str
    description: str = ""


class HandlerConfig(BaseModel):
    """Motia's per-handler infrastructure hints; accepted and not used here."""

    ram: int = 128
    cpu: int | None = None
    timeout: int = 30


__all__ = [
    "ApiMiddleware",
    "ApiRequest",
    "ApiResponse",
    "ApiRouteMethod",
    "ApiTrigger",
    "CronTrigger",
    "Enqueue",
    "Enqueuer",
    "FlowContext",
    "HandlerConfig",
    "HttpTrigger",
    "MotiaHttpArgs",
    "MotiaHttpRequest",
    "MotiaHttpResponse",
    "QueryParam",
    "QueueConfig",
    "QueueTrigger",
    "StateTrigger",
    "StateTriggerInput",
    "Step",
    "StepConfig",
    "StreamConfig",
    "StreamEvent",
    "StreamTrigger",
    "StreamTriggerInput",
    "Trigger",
    "TriggerCondition",
    "TriggerConfig",
    "TriggerInfo",
    "TriggerInput",
    "cron",
    "http",
    "queue",
    "state",
    "stream",
]
