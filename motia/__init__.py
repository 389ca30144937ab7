"""Motia-style steps served by a pure-Python ASGI runtime."""

from motia import tracing
from motia._http.request import ApiRequest, MotiaHttpArgs, MotiaHttpRequest, RequestBody
from motia._http.response import ApiResponse, MotiaHttpResponse
from motia._project.config import Enqueue, StepConfig
from motia._project.queue_config import QueueConfig
from motia._project.trigger_inputs import StateTriggerInput, StreamEvent, StreamTriggerInput
from motia._project.triggers import TriggerInfo
from motia._realtime.access import StreamAuthRequest
from motia._runtime.context import FlowContext
from motia.app import Motia

# Importing a submodule (``motia.step``, ``motia.state``, ``motia.enqueue``,
# ``motia.logger``) binds it as an attribute of ``motia``; the name imported from it
# right after takes the attribute back, whatever a user imports first.
from motia.enqueue import enqueue
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
from motia.guards import (
    get_api_triggers,
    get_cron_triggers,
    get_queue_triggers,
    get_state_triggers,
    get_stream_triggers,
    is_api_step,
    is_api_trigger,
    is_cron_step,
    is_cron_trigger,
    is_queue_step,
    is_queue_trigger,
    is_state_step,
    is_state_trigger,
    is_stream_step,
    is_stream_trigger,
)
from motia.iii import get_instance, init_iii
from motia.loader import generate_step_id
from motia.logger import logger
from motia.multi_trigger import MultiTriggerStepBuilder, multi_trigger_step
from motia.schema_utils import schema_to_json_schema
from motia.settings import Settings
from motia.setup_step_endpoint import setup_step_endpoint
from motia.state import StateManager, stateManager
from motia.step import Step, StepBuilder, StepDefinition, step
from motia.streams import Stream, StreamConfig
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
from motia.types import (
    ApiMiddleware,
    ApiRouteMethod,
    Enqueuer,
    QueryParam,
    TriggerCondition,
    TriggerConfig,
    TriggerInput,
)
from motia.types_stream import StreamAuthInput, StreamAuthResult, StreamSubscription

ChannelReader = RequestBody
"""Motia's name for what ``request.request_body`` is: the raw body, read as a stream."""
ChannelWriter = MotiaHttpResponse
"""Motia's name for what ``response.writer`` is: ``writer.stream.write(bytes)``."""

__version__ = "0.1.0"

__all__ = [
    "ApiMiddleware",
    "ApiRequest",
    "ApiResponse",
    "ApiRouteMethod",
    "ApiTrigger",
    "BuildError",
    "ChannelReader",
    "ChannelWriter",
    "ConfigError",
    "CronTrigger",
    "Enqueue",
    "EnqueueError",
    "Enqueuer",
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
    "QueryParam",
    "QueueConfig",
    "QueueTrigger",
    "RequestBody",
    "ResponseStartedError",
    "SchemaValidationError",
    "Settings",
    "StateManager",
    "StateTrigger",
    "StateTriggerInput",
    "Step",
    "StepBuilder",
    "StepConfig",
    "StepDefinition",
    "StepError",
    "Stream",
    "StreamAuthError",
    "StreamAuthInput",
    "StreamAuthRequest",
    "StreamAuthResult",
    "StreamConfig",
    "StreamEvent",
    "StreamSubscription",
    "StreamTrigger",
    "StreamTriggerInput",
    "TriggerCondition",
    "TriggerConfig",
    "TriggerInfo",
    "TriggerInput",
    "UnstorableValue",
    "UpdateConflict",
    "api",
    "cron",
    "enqueue",
    "generate_step_id",
    "get_api_triggers",
    "get_cron_triggers",
    "get_instance",
    "get_queue_triggers",
    "get_state_triggers",
    "get_stream_triggers",
    "http",
    "init_iii",
    "is_api_step",
    "is_api_trigger",
    "is_cron_step",
    "is_cron_trigger",
    "is_queue_step",
    "is_queue_trigger",
    "is_state_step",
    "is_state_trigger",
    "is_stream_step",
    "is_stream_trigger",
    "logger",
    "multi_trigger_step",
    "queue",
    "schema_to_json_schema",
    "setup_step_endpoint",
    "state",
    "stateManager",
    "step",
    "stream",
    "tracing",
]
