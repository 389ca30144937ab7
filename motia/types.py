"""Motia's ``motia.types`` import path: the public types, re-exported."""

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
)
from motia._runtime.context import FlowContext

TriggerConfig = Trigger

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "ApiTrigger",
    "CronTrigger",
    "Enqueue",
    "FlowContext",
    "HttpTrigger",
    "MotiaHttpArgs",
    "MotiaHttpRequest",
    "MotiaHttpResponse",
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
]
