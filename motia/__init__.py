"""Motia-style steps served by a pure-Python ASGI runtime."""

from motia.app import Motia
from motia.config import Enqueue, StepConfig
from motia.context import FlowContext, TriggerInfo
from motia.current import BoundStream, ModuleLogger, ModuleStateManager, enqueue
from motia.errors import BuildError, StepError
from motia.multi_trigger import MultiTriggerStepBuilder, multi_trigger_step
from motia.queue_config import QueueConfig
from motia.queue_errors import NonRetryableError
from motia.requests import ApiRequest, MotiaHttpArgs, MotiaHttpRequest, RequestBody
from motia.responses import ApiResponse, MotiaHttpResponse, ResponseStartedError
from motia.settings import Settings
from motia.step import Step, StepBuilder, StepDefinition, step
from motia.stream_auth import StreamAuthError, StreamAuthRequest
from motia.streams import StreamConfig
from motia.trigger_inputs import StateTriggerInput, StreamEvent, StreamTriggerInput
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
stateManager = ModuleStateManager()
Stream = BoundStream

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
    "NonRetryableError",
    "QueueConfig",
    "QueueTrigger",
    "RequestBody",
    "ResponseStartedError",
    "Settings",
    "StateTrigger",
    "StateTriggerInput",
    "Step",
    "StepBuilder",
    "StepConfig",
    "StepDefinition",
    "StepError",
    "Stream",
    "StreamAuthError",
    "StreamAuthRequest",
    "StreamConfig",
    "StreamEvent",
    "StreamTrigger",
    "StreamTriggerInput",
    "TriggerInfo",
    "api",
    "cron",
    "enqueue",
    "http",
    "logger",
    "multi_trigger_step",
    "queue",
    "state",
    "stateManager",
    "step",
    "stream",
]
