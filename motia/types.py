"""Motia's ``motia.types`` import path: the public types, re-exported."""

from motia.config import Enqueue, StepConfig
from motia.context import FlowContext, TriggerInfo
from motia.queue_config import QueueConfig
from motia.requests import ApiRequest, MotiaHttpArgs, MotiaHttpRequest
from motia.responses import ApiResponse, MotiaHttpResponse
from motia.step import Step
from motia.streams import StreamConfig
from motia.trigger_inputs import StateTriggerInput, StreamEvent, StreamTriggerInput
from motia.triggers import (
    ApiTrigger,
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
    Trigger,
    TriggerCondition,
)

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
