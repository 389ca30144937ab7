"""Motia-style steps served by a pure-Python ASGI runtime."""

from motia.app import Motia
from motia.config import Enqueue, StepConfig
from motia.context import FlowContext, TriggerInfo
from motia.current import ModuleLogger, enqueue
from motia.errors import BuildError, StepError
from motia.multi_trigger import MultiTriggerStepBuilder, multi_trigger_step
from motia.queue_config import QueueConfig
from motia.requests import ApiRequest, MotiaHttpArgs, MotiaHttpRequest, RequestBody
from motia.responses import ApiResponse, MotiaHttpResponse, ResponseStartedError
from motia.settings import Settings
from motia.step import Step, StepBuilder, StepDefinition, step
from motia.triggers import (
    ApiTrigger,
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
    api,
    cron,
    http,
    queue,
    state,
    stream,
)

logger = ModuleLogger()

__version__ = "0.1.0"

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "ApiTrigger",
    "BuildError",
    "CronTrigger",
    "Enqueue",
    "FlowContext",
    "HttpTrigger",
    "Motia",
    "MotiaHttpArgs",
    "MotiaHttpRequest",
    "MotiaHttpResponse",
    "MultiTriggerStepBuilder",
    "QueueConfig",
    "QueueTrigger",
    "RequestBody",
    "ResponseStartedError",
    "Settings",
    "StateTrigger",
    "Step",
    "StepBuilder",
    "StepConfig",
    "StepDefinition",
    "StepError",
    "StreamTrigger",
    "TriggerInfo",
    "api",
    "cron",
    "enqueue",
    "http",
    "logger",
    "multi_trigger_step",
    "queue",
    "state",
    "step",
    "stream",
]
