"""Code written for Motia's Python SDK runs unchanged: its types, import paths, 0.x
configs, CLI commands, ``.env`` files and helper modules."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from pydantic import BaseModel

from motia import (
    ApiRequest,
    ApiResponse,
    FlowContext,
    Motia,
    QueryParam,
    StepConfig,
    TriggerInfo,
    http,
    schema_to_json_schema,
    step,
)
from motia.cli import main
from motia.types import Step

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serving(app: Motia) -> AsyncIterator[httpx.AsyncClient]:
    asgi = app.asgi()
    with anyio.fail_after(10):
        async with asgi.router.lifespan_context(asgi):
            transport = httpx.ASGITransport(asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


# -- 1. generics ----------------------------------------------------------------------------


class Order(BaseModel):
    amount: int


async def test_generic_request_and_response_annotations_load_and_answer() -> None:
    async def handler(request: ApiRequest[Order]) -> ApiResponse[dict[str, Any]]:
        return ApiResponse[dict[str, Any]](status=201, body={"got": request.body})

    definition = step({"name": "G", "triggers": [http("POST", "/g")]}, handler)
    async with serving(Motia(steps_dir=None, steps=[definition], store="memory")) as client:
        response = await client.post("/g", json={"amount": 3})
    assert response.status_code == 201
    assert response.json() == {"got": {"amount": 3}}


# -- 4. HTTP conditions get an ApiRequest ---------------------------------------------------


async def test_an_http_condition_receives_an_api_request() -> None:
    seen: list[Any] = []

    def verified(input: Any, ctx: FlowContext[Any]) -> bool:
        seen.append(input)
        return isinstance(input, ApiRequest) and bool((input.body or {}).get("verified"))

    async def handler(request: ApiRequest[Any]) -> ApiResponse[Any]:
        return ApiResponse(status=200, body={"ok": True})

    definition = step({"name": "C", "triggers": [http("POST", "/c", condition=verified)]}, handler)
    async with serving(Motia(steps_dir=None, steps=[definition], store="memory")) as client:
        refused = await client.post("/c", json={"verified": False})
        accepted = await client.post("/c?x=1", json={"verified": True})
    assert refused.status_code == 422
    assert accepted.json() == {"ok": True}
    assert seen[1].query_params == {"x": "1"}
    assert seen[1].path_params == {}


# -- 7. the API surface ---------------------------------------------------------------------


def test_a_flow_context_builds_from_a_trace_id_and_a_trigger() -> None:
    ctx: FlowContext[Any] = FlowContext(
        trace_id="t-1", trigger=TriggerInfo(type="queue", topic="x"), input_value={"a": 1}
    )
    assert ctx.is_queue() and ctx.get_data() == {"a": 1}
    with pytest.raises(RuntimeError, match="belongs to no app"):
        ctx.enqueue({"topic": "x", "data": {}})


async def test_a_flow_context_forwards_an_enqueue_function() -> None:
    sent: list[Any] = []

    async def enqueue(event: Any) -> None:
        sent.append(event)

    ctx: FlowContext[Any] = FlowContext(
        trace_id="t", trigger=TriggerInfo(type="http"), enqueue=enqueue
    )
    await ctx.enqueue({"topic": "t", "data": 1})
    assert sent == [{"topic": "t", "data": 1}]


def test_step_turns_a_dict_into_a_step_config_and_step_needs_no_handler() -> None:
    definition = step({"name": "S", "triggers": [http("GET", "/s")]}, lambda args: None)
    assert isinstance(definition.config, StepConfig)
    assert definition.config.name == "S"
    declared = Step(file_path="steps/s_step.py", config=definition.config)
    assert declared.file_path == "steps/s_step.py"
    with pytest.raises(RuntimeError, match="without a handler"):
        declared.handler(None)


def test_schema_to_json_schema_reads_as_motias() -> None:
    schema = {"type": "object"}
    assert schema_to_json_schema(schema) is schema
    assert schema_to_json_schema(Order)["properties"]["amount"]["type"] == "integer"  # type: ignore[index]
    assert schema_to_json_schema(None) is None
    assert schema_to_json_schema("not a schema") is None


def test_motias_import_paths_work_in_a_fresh_interpreter() -> None:
    code = (
        "from motia.types import state, stream, QueryParam, ApiRouteMethod, Enqueuer\n"
        "from motia.types_stream import StreamAuthInput, StreamAuthResult, StreamSubscription\n"
        "from motia.state import StateManager, stateManager\n"
        "from motia.streams import Stream\n"
        "from motia.enqueue import enqueue\n"
        "from motia.logger import logger\n"
        "from motia.loader import generate_step_id\n"
        "from motia import state as s, step as st, enqueue as e, logger as lg\n"
        "assert callable(s) and callable(st) and callable(e) and hasattr(lg, 'info')\n"
        "assert generate_step_id('steps/a_step.py') == generate_step_id('steps/a_step.py')\n"
        "assert StreamAuthResult(authorized=False).context is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_query_params_declared_as_models_reach_openapi() -> None:
    trigger = http("GET", "/q", query_params=[QueryParam(name="page", description="which")])
    definition = step({"name": "Q", "triggers": [trigger]}, lambda args: {"status": 200})
    async with serving(Motia(steps_dir=None, steps=[definition], store="memory")) as client:
        document = (await client.get("/openapi.json")).json()
    parameters = document["paths"]["/q"]["get"]["parameters"]
    assert {"name": "page", "in": "query", "description": "which"}.items() <= parameters[0].items()


# -- 8. Motia 0.x configs -------------------------------------------------------------------


LEGACY_API = """
config = {
    "type": "api",
    "name": "LegacyApi",
    "method": "POST",
    "path": "/legacy",
    "emits": ["legacy.created"],
    "flows": ["legacy"],
}

async def handler(req, context):
    await context.enqueue({"topic": "legacy.created", "data": req.body})
    return {"status": 200, "body": {"ok": True}}
"""

LEGACY_EVENT = """
config = {
    "type": "event",
    "name": "LegacyEvent",
    "subscribes": ["legacy.created"],
    "emits": [],
    "input": {"type": "object"},
}

async def handler(data, context):
    await context.state.set("legacy", "seen", data)
"""

LEGACY_CRON = """
config = {"type": "cron", "name": "LegacyCron", "cron": "0 0 * * *", "emits": []}

async def handler(context):
    pass
"""


async def test_zero_x_configs_load_as_triggers_with_one_warning_each(tmp_path: Path) -> None:
    steps = tmp_path / "steps"
    write(steps, "legacy_api_step.py", LEGACY_API)
    write(steps, "legacy_event_step.py", LEGACY_EVENT)
    write(steps, "legacy_cron_step.py", LEGACY_CRON)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = Motia(steps, project_dir=tmp_path, store="memory")
    messages = [str(w.message) for w in caught if issubclass(w.category, FutureWarning)]
    assert len(messages) == 3
    assert any("\"triggers\": [http('POST', '/legacy')]" in m for m in messages)
    assert any("queue('legacy.created')" in m for m in messages)
    assert any("cron('0 0 * * *')" in m for m in messages)
    async with serving(app) as client:
        assert (await client.post("/legacy", json={"n": 1})).json() == {"ok": True}
        while await app.runtime.state.get("legacy", "seen") is None:
            await anyio.sleep(0.01)
        assert await app.runtime.state.get("legacy", "seen") == {"n": 1}


# -- 9. helper modules ----------------------------------------------------------------------


HELPER_STEP = """
import counter
from motia import http

config = {{"name": "{name}", "triggers": [http("POST", "/{name}")]}}

async def handler(args):
    counter.hits.append("{name}")
    return {{"status": 200, "body": {{"hits": len(counter.hits), "module": id(counter)}}}}
"""


@pytest.mark.parametrize("form", ["relative", "absolute", "dotted"])
async def test_a_helper_module_is_one_module_for_its_folder(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "steps" / "shop"
    write(folder, "counter.py", "hits: list[str] = []\n")
    for name in ("a", "b"):
        write(folder, f"{name}.step.py", HELPER_STEP.format(name=name))
    monkeypatch.chdir(tmp_path)
    steps_dir = {"relative": "steps", "absolute": str(tmp_path / "steps"), "dotted": "./steps"}
    app = Motia(steps_dir[form], project_dir="." if form != "absolute" else tmp_path)
    async with serving(app) as client:
        first = (await client.post("/a")).json()
        second = (await client.post("/b")).json()
    assert first["module"] == second["module"]
    assert second["hits"] == first["hits"] + 1


# -- 5. .env and the CLI --------------------------------------------------------------------


def test_the_cli_loads_the_projects_env_file_without_overriding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, ".env", "MOTIA_DOTENV_PROBE=from-file\nMOTIA_DOTENV_KEPT=from-file\n")
    write(
        tmp_path / "steps",
        "env_step.py",
        "import os\nfrom motia import http\n"
        'config = {"name": "Env", "triggers": [http("GET", "/env")]}\n'
        "def handler(request):\n"
        '    return {"status": 200, "body": os.environ.get("MOTIA_DOTENV_PROBE")}\n',
    )
    monkeypatch.delenv("MOTIA_DOTENV_PROBE", raising=False)
    monkeypatch.setenv("MOTIA_DOTENV_KEPT", "from-shell")
    try:
        assert main(["routes", "--project", str(tmp_path)]) == 0
        assert os.environ["MOTIA_DOTENV_PROBE"] == "from-file"
        assert os.environ["MOTIA_DOTENV_KEPT"] == "from-shell"
    finally:
        os.environ.pop("MOTIA_DOTENV_PROBE", None)


def test_motias_run_command_and_short_flags_parse_as_start() -> None:
    from motia.cli import _parser

    args = _parser().parse_args(["run", "-d", "src/steps", "-v"])
    assert args.run.__name__ == "_start"
    assert (args.dir, args.verbose) == ("src/steps", True)
    assert _parser().parse_args(["dev", "--watch", "-d", "x"]).dir == "x"


def test_step_and_trigger_types_validate_and_dump_as_motias_models() -> None:
    from motia import QueueTrigger, StreamTrigger, queue, stream

    config = StepConfig.model_validate(
        {
            "name": "M",
            "triggers": [http("POST", "/m", body_schema={"type": "object"}), stream("todo")],
            "virtualEnqueues": ["later"],
        }
    )
    dumped = config.model_dump(by_alias=True, exclude_none=True)
    assert dumped["triggers"][0] == {
        "method": "POST",
        "path": "/m",
        "bodySchema": {"type": "object"},
        "type": "http",
    }
    assert dumped["triggers"][1] == {"streamName": "todo", "type": "stream"}
    assert dumped["virtualEnqueues"] == ["later"]
    assert StepConfig.model_validate(config) == config
    assert StreamTrigger.model_validate({"streamName": "a", "groupId": "g"}) == stream(
        "a", group_id="g"
    )
    trigger = QueueTrigger.model_validate({"topic": "t", "config": {"maxRetries": 5}})
    assert trigger == queue("t", config={"max_retries": 5})
    assert trigger.model_dump(by_alias=True)["config"]["maxRetries"] == 5


def test_multi_trigger_step_turns_a_dict_into_a_step_config() -> None:
    from motia import multi_trigger_step, queue

    definition = multi_trigger_step({"name": "Multi", "triggers": [queue("a")]}).handlers(
        {"queue": lambda data, ctx: None}
    )
    assert isinstance(definition.config, StepConfig)
    assert definition.config.name == "Multi"


async def test_a_stream_auth_hook_may_answer_with_motias_auth_result() -> None:
    from motia import StreamAuthInput, StreamAuthResult
    from motia._realtime.access import authenticate

    request = StreamAuthInput(headers={}, path="/", query_params={}, client=("1.2.3.4", 5))
    assert request.addr == "1.2.3.4:5"
    refused = await authenticate(lambda r: StreamAuthResult(authorized=False), request)
    allowed = await authenticate(
        lambda r: StreamAuthResult(authorized=True, context={"user": "u"}), request
    )
    assert refused == (False, None)
    assert allowed == (True, {"user": "u"})


def test_motias_tracing_helpers_make_spans_of_your_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    from motia import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "get_tracer", lambda: provider.get_tracer("motia"))
    with tracing.operation_span("payments::charge", amount=3, skipped=None) as span:
        assert tracing.get_trace_id_from_span() == format(span.get_span_context().trace_id, "032x")
        assert tracing.inject_context() == {} or "traceparent" in tracing.inject_context()
        tracing.set_span_ok(span)
    with pytest.raises(ValueError), tracing.step_span("Charge", "http") as span:
        error = ValueError("declined")
        tracing.record_exception(span, error)
        raise error
    charge, step_run = exporter.get_finished_spans()
    assert (charge.name, charge.kind, dict(charge.attributes or {})) == (
        "payments::charge",
        SpanKind.CLIENT,
        {"amount": 3},
    )
    assert charge.status.status_code is StatusCode.OK
    assert (step_run.name, step_run.kind) == ("step:Charge", SpanKind.SERVER)
    assert step_run.status.status_code is StatusCode.ERROR
    assert (step_run.attributes or {})["motia.step.name"] == "Charge"


def test_motias_other_top_level_names_exist() -> None:
    import motia
    from motia import ChannelReader, ChannelWriter

    assert ChannelReader is motia.RequestBody and ChannelWriter is motia.MotiaHttpResponse
