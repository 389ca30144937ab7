"""The public surface, frozen: ``motia`` and each Motia 1.0 import path export exactly
these names, so any change to what users can import is a deliberate edit here."""

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import motia
from motia import exceptions

# fmt: off
PUBLIC_NAMES: dict[str, list[str]] = {
    "motia": [
        "ApiMiddleware", "ApiRequest", "ApiResponse", "ApiRouteMethod", "ApiTrigger", "BuildError",
        "ChannelReader", "ChannelWriter", "ConfigError", "CronTrigger", "Enqueue", "EnqueueError",
        "Enqueuer", "FieldError", "FlowContext", "HttpTrigger", "InvalidUpdateOp", "Motia",
        "MotiaError", "MotiaHttpArgs", "MotiaHttpRequest", "MotiaHttpResponse",
        "MultiTriggerStepBuilder", "NonRetryableError", "QueryParam", "QueueConfig", "QueueTrigger",
        "RequestBody", "ResponseStartedError", "SchemaValidationError", "Settings", "StateManager",
        "StateTrigger", "StateTriggerInput", "Step", "StepBuilder", "StepConfig", "StepDefinition",
        "StepError", "Stream", "StreamAuthError", "StreamAuthInput", "StreamAuthRequest",
        "StreamAuthResult", "StreamConfig", "StreamEvent", "StreamSubscription", "StreamTrigger",
        "StreamTriggerInput", "TriggerCondition", "TriggerConfig", "TriggerInfo", "TriggerInput",
        "UnstorableValue", "UpdateConflict", "api", "cron", "enqueue", "generate_step_id",
        "get_api_triggers", "get_cron_triggers", "get_instance", "get_queue_triggers",
        "get_state_triggers", "get_stream_triggers", "http", "init_iii", "is_api_step",
        "is_api_trigger", "is_cron_step", "is_cron_trigger", "is_queue_step", "is_queue_trigger",
        "is_state_step", "is_state_trigger", "is_stream_step", "is_stream_trigger", "logger",
        "multi_trigger_step", "queue", "schema_to_json_schema", "setup_step_endpoint", "state",
        "stateManager", "step", "stream", "tracing",
    ],
    "motia.types": [
        "ApiMiddleware", "ApiRequest", "ApiResponse", "ApiRouteMethod", "ApiTrigger", "CronTrigger",
        "Enqueue", "Enqueuer", "FlowContext", "HandlerConfig", "HttpTrigger", "MotiaHttpArgs",
        "MotiaHttpRequest", "MotiaHttpResponse", "QueryParam", "QueueConfig", "QueueTrigger",
        "StateTrigger", "StateTriggerInput", "Step", "StepConfig", "StreamConfig", "StreamEvent",
        "StreamTrigger", "StreamTriggerInput", "Trigger", "TriggerCondition", "TriggerConfig",
        "TriggerInfo", "TriggerInput", "cron", "http", "queue", "state", "stream",
    ],
    "motia.tracing": [
        "HAS_OTEL", "extract_parent_context", "get_trace_id_from_span", "get_tracer",
        "inject_context", "instrument_bridge", "operation_span", "record_exception",
        "set_span_ok", "step_span",
    ],
    "motia.triggers": [
        "ApiTrigger", "CronTrigger", "HttpTrigger", "QueueTrigger", "StateTrigger",
        "StreamTrigger", "Trigger", "TriggerCondition", "api", "cron", "http", "queue", "state",
        "stream",
    ],
    "motia.step": [
        "Step", "StepBuilder", "StepDefinition", "step",
    ],
    "motia.multi_trigger": [
        "MultiTriggerStepBuilder", "multi_trigger_step",
    ],
    "motia.guards": [
        "get_api_triggers", "get_cron_triggers", "get_http_triggers", "get_queue_triggers",
        "get_state_triggers", "get_stream_triggers", "is_api_step", "is_api_trigger",
        "is_cron_step", "is_cron_trigger", "is_event_step", "is_http_step", "is_http_trigger",
        "is_noop_step", "is_queue_step", "is_queue_trigger", "is_state_step", "is_state_trigger",
        "is_stream_step", "is_stream_trigger",
    ],
    "motia.schema_utils": [
        "schema_to_json_schema",
    ],
    "motia.streams": [
        "Stream", "StreamConfig",
    ],
    "motia.enqueue": [
        "enqueue",
    ],
    "motia.iii": [
        "get_instance", "init_iii",
    ],
    "motia.bridge": [
        "bridge",
    ],
    "motia.runtime": [
        "Motia", "current_trace_id",
    ],
    "motia.loader": [
        "generate_step_id",
    ],
    "motia.logger": [
        "logger",
    ],
    "motia.state": [
        "StateManager", "stateManager",
    ],
    "motia.types_stream": [
        "StreamAuthInput", "StreamAuthResult", "StreamConfig", "StreamSubscription",
    ],
    "motia.setup_step_endpoint": [
        "setup_step_endpoint",
    ],
    "motia.testing": [
        "EventStream", "FakeContext", "HttpResult", "JoinRefused", "Lifespan", "LiveServer",
        "LogEntry", "MotiaClient", "RecordingLogger", "RunningApp", "SentEvent", "ServerSentEvent",
        "StepRun", "StreamClient", "StreamClosed", "StreamingASGITransport", "Write",
        "create_test_context", "load_step", "run_cron", "run_http", "run_queue", "run_state",
        "run_stream",
    ],
}
# fmt: on


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_all_is_exactly_the_frozen_list(module: str) -> None:
    assert PUBLIC_NAMES[module] == sorted(set(PUBLIC_NAMES[module])), "keep the list sorted"
    assert importlib.import_module(module).__all__ == PUBLIC_NAMES[module]


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_every_public_name_imports(module: str) -> None:
    for name in PUBLIC_NAMES[module]:
        assert getattr(importlib.import_module(module), name) is not None, name
        exec(f"from {module} import {name}", {})


HANDLER_ERRORS = [
    "BuildError",
    "ConfigError",
    "EnqueueError",
    "FieldError",
    "InvalidUpdateOp",
    "MotiaError",
    "NonRetryableError",
    "ResponseStartedError",
    "SchemaValidationError",
    "StepError",
    "StreamAuthError",
    "UnstorableValue",
    "UpdateConflict",
]


def test_the_errors_a_handler_meets_are_exported_from_motia() -> None:
    for name in HANDLER_ERRORS:
        assert name in motia.__all__, name
        assert getattr(motia, name) is getattr(exceptions, name)


def test_exceptions_all_is_sorted_and_names_every_class_it_defines() -> None:
    assert exceptions.__all__ == sorted(set(exceptions.__all__))
    defined = {
        name
        for name, value in vars(exceptions).items()
        if inspect.isclass(value) and value.__module__ == exceptions.__name__
    }
    assert defined == set(exceptions.__all__)


def test_every_error_motia_defines_lives_in_motia_exceptions_under_motia_error() -> None:
    modules = pkgutil.walk_packages(motia.__path__, "motia.")
    names = [module.name for module in modules if not module.name.endswith("__main__")]
    for name in names:
        for value in vars(importlib.import_module(name)).values():
            if inspect.isclass(value) and issubclass(value, BaseException):
                if value.__module__.startswith("motia"):
                    assert value.__module__ == "motia.exceptions", value
                    assert issubclass(value, exceptions.MotiaError), value


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("BuildError", Exception),
        ("ClientGone", Exception),
        ("ConfigError", ValueError),
        ("EnqueueError", ValueError),
        ("FrameError", ValueError),
        ("InvalidCronExpression", ValueError),
        ("InvalidUpdateOp", ValueError),
        ("JoinRefused", Exception),
        ("MalformedJSON", ValueError),
        ("NonRetryableError", Exception),
        ("ProjectExistsError", FileExistsError),
        ("RequestRefused", Exception),
        ("ResponseStartedError", RuntimeError),
        ("SchemaValidationError", ValueError),
        ("ServeError", Exception),
        ("StreamAuthError", Exception),
        ("StreamClosed", ConnectionError),
        ("UnencodableBody", ValueError),
        ("UnstorableValue", ValueError),
        ("UpdateConflict", RuntimeError),
    ],
)
def test_each_error_keeps_the_builtin_base_code_already_catches(
    name: str, builtin: type[Exception]
) -> None:
    error = getattr(exceptions, name)
    assert issubclass(error, exceptions.MotiaError)
    assert issubclass(error, builtin)


@pytest.mark.slow
def test_importing_motia_starts_nothing() -> None:
    code = "import threading, motia; assert threading.active_count() == 1"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_the_step_function_wins_over_the_step_module_whatever_is_imported_first() -> None:
    code = (
        "import inspect, motia.step, motia.triggers, motia.streams, motia.multi_trigger\n"
        "from motia import step\n"
        "assert callable(step) and not inspect.ismodule(step)\n"
        "from motia.step import step as twin\n"
        "assert twin is step\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
