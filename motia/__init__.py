"""Motia-style steps served by a pure-Python ASGI runtime."""

from motia._http.request import ApiRequest, MotiaHttpArgs, MotiaHttpRequest, RequestBody
from motia._http.response import ApiResponse, MotiaHttpResponse
from motia._project.config import Enqueue, StepConfig
from motia._project.queue_config import QueueConfig
from motia._project.trigger_inputs import StateTriggerInput, StreamEvent, StreamTriggerInput
from motia._project.triggers import TriggerInfo
from motia._realtime.access import StreamAuthRequest
from motia._runtime.context import FlowContext
from motia._runtime.current import BoundStream, ModuleLogger, ModuleStateManager, enqueue
from motia.app import Motia
from motia.exceptions import (
    BuildError,
    ConfigError,
    EnqueueError,
    FieldError,
    InvalidUpdateOp,
    MotiaError,
    NonRetryableError,
    ResponseStartedError,
    SchemaValidationError,
    StepError,
    StreamAuthError,
    UnstorableValue,
    UpdateConflict,
)
from motia.multi_trigger import MultiTriggerStepBuilder, multi_trigger_step
from motia.settings import Settings

# Importing the submodule ``motia.step`` binds it as an attribute of ``motia``; the
# function imported from it right after takes the name back, whatever a user imports first.
from motia.step import Step, StepBuilder, StepDefinition, step
from motia.streams import StreamConfig
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
    "ConfigError",
    "CronTrigger",
    "Enqueue",
    "EnqueueError",
    "FieldError",
    "FlowContext",
    "HttpTrigger",
    "InvalidUpdateOp",
    "Motia",
    "MotiaError",
    "MotiaHttpArgs",
    "MotiaHttpRequest",
    "MotiaHttpResponse",
    "MultiTriggerStepBuilder",
    "NonRetryableError",
    "QueueConfig",
    "QueueTrigger",
    "RequestBody",
    "ResponseStartedError",
    "SchemaValidationError",
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
    "UnstorableValue",
    "UpdateConflict",
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
