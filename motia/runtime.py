"""Motia's ``motia.runtime``: ``Motia``, the registry that puts steps on an engine client.

Motia's generated entrypoint calls ``Motia().add_step(config, path, handler)`` per step
file and ``initialize()`` once; each trigger becomes a function registered on the
engine client (``get_instance()``) plus a trigger bound to it, with the payloads
Motia's engine expects. This module makes the same calls, so code written for it
runs; on this process's client the functions can be called by id
(``get_instance().trigger_async({"function_id": ..., "payload": ...})``) while the
triggers are only recorded. To serve steps, run ``motia dev`` or
``motia.Motia(...).asgi()``, which need none of this.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from motia._http.request import MotiaHttpArgs, MotiaHttpRequest
from motia._project.config import StepConfig
from motia._project.step import StepDefinition
from motia._project.stream_config import StreamConfig
from motia._project.triggers import (
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StreamTrigger,
    Trigger,
    TriggerInfo,
)
from motia._realtime.access import StreamAuthRequest, StreamAuthResult
from motia._runtime.context import FlowContext
from motia._runtime.engine_calls import call_engine
from motia.iii import get_instance
from motia.schema_utils import schema_to_json_schema
from motia.setup_step_endpoint import setup_step_endpoint
from motia.streams import Stream
from motia.tracing import (
    get_trace_id_from_span,
    instrument_bridge,
    record_exception,
    set_span_ok,
    step_span,
)
from motia.types_stream import StreamSubscription

__all__ = ["Motia", "current_trace_id"]

log = logging.getLogger("motia.runtime")
Handler = Callable[..., Any]
Result = TypeVar("Result")

current_trace_id = get_trace_id_from_span
"""The current OpenTelemetry trace id: a handler's ``ctx.trace_id`` when there is one."""


def _validate_input_schema(schema: Any, value: Any, label: str) -> Any:
    """``value`` checked against a pydantic model (returned validated) or a JSON Schema;
    a failure is logged with the step's label and raised."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            return schema.model_validate(value)
        except PydanticValidationError as exc:
            log.error("input of %s does not match schema=%r: %s", label, schema, exc)
            raise
    json_schema = schema_to_json_schema(schema)
    if json_schema:
        import jsonschema

        try:
            jsonschema.validate(instance=value, schema=json_schema)
        except jsonschema.ValidationError as exc:
            log.error("input of %s does not match json_schema=%r: %s", label, json_schema, exc)
            raise
    return value


class EngineResponse:
    """``args.response`` of a step called by the engine: status and headers go to the
    engine's response channel as messages, the body as bytes on its stream."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    @property
    def writer(self) -> Any:
        return self._writer

    async def status(self, status_code: int) -> None:
        await self._send({"type": "set_status", "status_code": status_code})

    async def headers(self, headers: dict[str, str]) -> None:
        await self._send({"type": "set_headers", "headers": headers})

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    async def _send(self, message: dict[str, Any]) -> None:
        if self._writer is not None:
            await self._writer.send_message_async(json.dumps(message))


class Motia:
    """Steps and streams registered on the engine client, as Motia's runtime does."""

    def __init__(self) -> None:
        self.streams: dict[str, Stream[Any]] = {}
        self._stream_configs: dict[str, StreamConfig] = {}
        self._authenticate: Handler | None = None

    def add_stream(self, config: StreamConfig, file_path: str) -> Stream[Any]:
        self.streams[config.name] = Stream(config)
        self._stream_configs[config.name] = config
        log.info("stream %s added from %s", config.name, file_path)
        return self.streams[config.name]

    def set_authenticate(self, handler: Handler) -> None:
        """The stream auth hook, registered by ``initialize()``."""
        self._authenticate = handler

    def add_step(
        self,
        config: Any,
        step_path: str,
        handler: Handler | None = None,
        file_path: str | None = None,
    ) -> None:
        """Register one function and one trigger per trigger of ``config`` (a
        ``StepDefinition``, a ``StepConfig`` or its dict, with ``handler``)."""
        if isinstance(config, StepDefinition):
            handler = handler or config.handler
            config = config.config
        if handler is None:
            raise ValueError(
                "handler is required - provide it directly or use step()/multi_trigger_step()"
            )
        config = StepConfig.model_validate(config)
        engine = get_instance()
        instrument_bridge(engine)
        metadata = {**_step_metadata(config), "filePath": file_path or step_path}
        for index, (trigger, function_id) in enumerate(_function_ids(config)):
            run = _runner(config.name, trigger, index, handler)
            engine.register_function({"id": function_id}, run)
            trigger_config = {**_trigger_config(trigger), "metadata": metadata}
            if trigger.condition is not None:
                condition_id = f"{function_id}::conditions::{index}"
                engine.register_function({"id": condition_id}, _condition(trigger, index))
                trigger_config["condition_function_id"] = condition_id
            engine.register_trigger(
                {"type": trigger.type, "function_id": function_id, "config": trigger_config}
            )
        log.info("step %s registered", config.name)

    def initialize(self) -> None:
        """Register the stream auth hook, the step content endpoint (``setup_step_endpoint``)
        and the streams' ``on_join``/``on_leave`` hooks."""
        engine = get_instance()
        if self._authenticate is not None:
            engine.register_function({"id": "motia::stream::authenticate"}, self._authenticate_call)
        setup_step_endpoint(engine)
        for hook in ("join", "leave"):
            if any(getattr(c, f"on_{hook}") for c in self._stream_configs.values()):
                function_id = f"motia::stream::{hook}"
                engine.register_function({"id": function_id}, self._stream_hook(f"on_{hook}"))
                engine.register_trigger(
                    {"type": f"stream:{hook}", "function_id": function_id, "config": {}}
                )

    async def _authenticate_call(self, data: dict[str, Any]) -> dict[str, Any]:
        assert self._authenticate is not None
        request = StreamAuthRequest(
            headers=data.get("headers", {}),
            path=data.get("path", ""),
            query_params=data.get("query_params", {}),
            client=_client(data.get("addr", "")),
        )
        result = await _settled(self._authenticate(request, _context("queue", None, request)))
        if isinstance(result, StreamAuthResult):
            return result.model_dump()
        return {"authorized": bool(result)}

    def _stream_hook(self, hook: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        async def call(data: dict[str, Any]) -> Any:
            config = self._stream_configs.get(data.get("stream_name", ""))
            function = getattr(config, hook, None)
            if function is None:
                return None
            subscription = StreamSubscription(group_id=data.get("group_id", ""), id=data.get("id"))
            result = await _settled(
                function(subscription, _context("queue", None), data.get("context"))
            )
            return result if hook == "on_join" else None

        return call


def _function_ids(config: StepConfig) -> list[tuple[Trigger, str]]:
    """``steps::<name>::trigger::<kind(key)>``, made unique by the index when repeated."""
    seen: set[str] = set()
    named = []
    for index, trigger in enumerate(config.triggers):
        suffix = _suffix(trigger)
        if suffix in seen:
            suffix = f"{suffix}::{index}"
        seen.add(suffix)
        named.append((trigger, f"steps::{config.name}::trigger::{suffix}"))
    return named


def _suffix(trigger: Trigger) -> str:
    if isinstance(trigger, HttpTrigger):
        return f"http({trigger.method} {trigger.path})"
    if isinstance(trigger, CronTrigger):
        return f"cron({trigger.expression})"
    if isinstance(trigger, QueueTrigger):
        return f"queue({trigger.topic})"
    if isinstance(trigger, StreamTrigger):
        return f"stream({trigger.stream_name})"
    return "state"


def _trigger_config(trigger: Trigger) -> dict[str, Any]:
    """What the engine needs to fire ``trigger``, in its own key names."""
    if isinstance(trigger, HttpTrigger):
        return {"api_path": trigger.path.lstrip("/"), "http_method": trigger.method}
    if isinstance(trigger, QueueTrigger):
        queue: dict[str, Any] = {"topic": trigger.topic}
        if trigger.config is not None:
            queue["queue_config"] = trigger.config.model_dump(by_alias=True, exclude_none=True)
        return queue
    if isinstance(trigger, CronTrigger):
        return {"expression": trigger.expression}
    if isinstance(trigger, StreamTrigger):
        keys = {
            "stream_name": trigger.stream_name,
            "group_id": trigger.group_id,
            "item_id": trigger.item_id,
        }
        return {key: value for key, value in keys.items() if value}
    return {}


def _step_metadata(config: StepConfig) -> dict[str, Any]:
    """The step's config as JSON: callables left out, schemas as JSON Schema."""
    metadata = config.model_dump(by_alias=True, exclude_none=True)
    metadata["triggers"] = [_trigger_metadata(trigger) for trigger in config.triggers]
    return metadata


def _trigger_metadata(trigger: Trigger) -> dict[str, Any]:
    data = trigger.model_dump(by_alias=True, exclude_none=True)
    data.pop("condition", None)
    data.pop("middleware", None)
    for key in ("input", "bodySchema"):
        if key in data:
            schema = _json_value(data[key])
            data.pop(key) if schema is None else data.__setitem__(key, schema)
    if isinstance(trigger, HttpTrigger) and trigger.response_schema:
        schemas = {code: _json_value(schema) for code, schema in trigger.response_schema.items()}
        kept = {code: schema for code, schema in schemas.items() if schema is not None}
        data.pop("responseSchema", None)
        if kept:
            data["responseSchema"] = kept
    return data


def _json_value(value: Any) -> Any:
    schema = schema_to_json_schema(value)
    if schema is not None:
        return schema
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _runner(step_name: str, trigger: Trigger, index: int, handler: Handler) -> Handler:
    """The function the engine calls for ``trigger``: its payload in, the result out."""
    if isinstance(trigger, HttpTrigger):
        http_trigger = trigger

        async def run_http(payload: dict[str, Any]) -> dict[str, Any] | None:
            attributes = {"http.method": payload.get("method"), "http.route": http_trigger.path}
            answer = partial(_answer_http, http_trigger, index, handler, payload)
            return await _spanned(step_name, "http", attributes, answer)

        return run_http

    async def run(payload: Any) -> Any:
        def call() -> Awaitable[Any]:
            return _settled(_call_step(step_name, trigger, index, handler, payload))

        return await _spanned(step_name, trigger.type, {}, call)

    return run


async def _spanned(
    step_name: str, kind: str, attributes: dict[str, Any], call: Callable[[], Awaitable[Result]]
) -> Result:
    """``call()``'s result, inside the step's span: marked ok, or failed with the exception."""
    with step_span(step_name, kind, **attributes) as span:
        try:
            result = await call()
        except Exception as exc:
            record_exception(span, exc)
            raise
        set_span_ok(span)
        return result


def _call_step(step_name: str, trigger: Trigger, index: int, handler: Handler, payload: Any) -> Any:
    if isinstance(trigger, CronTrigger):
        return handler(None, _context("cron", index))
    if isinstance(trigger, QueueTrigger) and trigger.input is not None:
        payload = _validate_input_schema(trigger.input, payload, f"queue:{step_name}")
    return handler(payload, _context(trigger.type, index, payload))


async def _answer_http(
    trigger: HttpTrigger, index: int, handler: Handler, payload: dict[str, Any]
) -> dict[str, Any] | None:
    request: MotiaHttpRequest[Any] = MotiaHttpRequest(
        method=payload.get("method", ""),
        path=payload.get("path", ""),
        path_params=payload.get("path_params") or {},
        query_params=payload.get("query_params") or {},
        headers=payload.get("headers") or {},
        body=payload.get("body"),
        request_body=payload.get("request_body"),
    )
    response = EngineResponse(payload.get("response"))
    args = MotiaHttpArgs(request, response)  # type: ignore[arg-type]
    info = TriggerInfo(type="http", index=index, method=trigger.method, path=trigger.path)
    ctx = _context("http", index, args, info)
    result = await _through(trigger.middleware or [], args, ctx, lambda: handler(args, ctx))
    if isinstance(result, BaseModel):
        result = result.model_dump()
    if not isinstance(result, dict):
        return None
    if "status" in result and "status_code" not in result:
        result["status_code"] = result.pop("status")
    await _send_result(response, result)
    return result


async def _send_result(response: EngineResponse, result: dict[str, Any]) -> None:
    await response.status(int(result.get("status_code", 200)))
    if result.get("headers"):
        await response.headers(result["headers"])
    body = result.get("body")
    if body is not None and response.writer is not None:
        data = body if isinstance(body, bytes | bytearray) else json.dumps(body).encode()
        response.writer.stream.write(data)
    response.close()


async def _through(middlewares: list[Handler], args: Any, ctx: Any, last: Callable[[], Any]) -> Any:
    """``last()`` behind Motia's middlewares: each gets ``(args, ctx, next)``."""

    async def from_(position: int) -> Any:
        if position == len(middlewares):
            return await _settled(last())
        return await _settled(middlewares[position](args, ctx, lambda: from_(position + 1)))

    return await from_(0)


def _condition(trigger: Trigger, index: int) -> Callable[[Any], Awaitable[bool]]:
    async def check(payload: Any) -> bool:
        value = payload
        if isinstance(trigger, HttpTrigger):
            fields = payload if isinstance(payload, dict) else {"body": payload}
            value = MotiaHttpRequest(
                path_params=fields.get("path_params") or {},
                query_params=fields.get("query_params") or {},
                headers=fields.get("headers") or {},
                body=fields.get("body"),
            )
        assert trigger.condition is not None
        return bool(await _settled(trigger.condition(value, _context(trigger.type, index, value))))

    return check


def _context(
    kind: str, index: int | None, value: Any = None, info: TriggerInfo | None = None
) -> FlowContext[Any]:
    return FlowContext(
        trace_id=current_trace_id() or str(uuid.uuid4()),
        trigger=info or TriggerInfo(type=kind, index=index),  # type: ignore[arg-type]
        input_value=value,
        enqueue=_enqueue,
    )


async def _enqueue(event: Any) -> None:
    sending = call_engine(get_instance(), "enqueue", event, awaited=True)
    await _settled(sending)


def _client(addr: str) -> tuple[str, int] | None:
    host, _, port = addr.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


async def _settled(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value
