"""OpenAPI 3.1: the document describing an app's HTTP triggers, and the route serving it.

Paths come from the triggers (Motia's ``/todo/:id`` is ``/todo/{id}``), bodies
and responses from ``body_schema`` and ``response_schema``, tags from the
step's flows, the operation id from the step's name made an identifier. A step
that streams Server-Sent Events (its handler names ``text/event-stream``, or its
trigger sets ``heartbeat_interval``) answers 200 with ``text/event-stream``. The runtime's own error
responses (400, 413, 422, 500) are described once, in ``components``, with the shapes
``request`` and ``response`` send.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from motia._http.openapi_schemas import SchemaComponents, component_ref
from motia._http.response import JSONResponse
from motia._project.registry import HttpRoute

__all__ = ["OPENAPI_VERSION", "openapi_document", "openapi_route", "operation_identifier"]

OPENAPI_VERSION = "3.1.0"

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")
_EVENT_STREAM = "text/event-stream"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")
_CONVERTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "path": {"type": "string"},
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
}


def openapi_document(
    routes: Iterable[HttpRoute],
    *,
    title: str = "Motia API",
    version: str = "0.1.0",
    servers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``routes`` (a registry's ``http_routes()``)."""
    routes = list(routes)
    components = SchemaComponents()
    _define_errors(components)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
    }
    if servers:
        document["servers"] = servers
    flows = sorted({flow for route in routes for flow in route.step.config.flows})
    if flows:
        document["tags"] = [{"name": flow} for flow in flows]
    document["paths"] = _paths(routes, components)
    responses = copy.deepcopy(_ERROR_RESPONSES)
    document["components"] = {"schemas": components.schemas, "responses": responses}
    return document


def openapi_route(path: str, document: Callable[[str], dict[str, Any]]) -> Route:
    """``GET path`` answering ``document(prefix)``, where ``prefix`` is where the app is mounted."""
    cache: dict[str, dict[str, Any]] = {}

    async def endpoint(request: Request) -> JSONResponse:
        prefix = request.scope["path"].removesuffix(path)  # the ASGI path includes root_path
        if prefix not in cache:
            cache[prefix] = document(prefix)
        return JSONResponse(cache[prefix])

    return Route(path, endpoint, methods=["GET"], include_in_schema=False)


def _paths(routes: list[HttpRoute], components: SchemaComponents) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route, operation_id in zip(routes, _operation_ids(routes), strict=True):
        path, parameters = _path_parameters(route.path)
        operation = _operation(route, operation_id, parameters, components)
        paths.setdefault(path, {})[route.method.lower()] = operation
    return paths


def _operation_ids(routes: list[HttpRoute]) -> list[str]:
    """The step's name as an identifier; a taken one gets the trigger index (then a count)."""
    seen: set[str] = set()
    ids = []
    for route in routes:
        name = operation_identifier(route.step.name)
        operation_id = f"{name}_{route.index}" if name in seen else name
        count = 2
        while operation_id in seen:
            operation_id, count = f"{name}_{route.index}_{count}", count + 1
        seen.add(operation_id)
        ids.append(operation_id)
    return ids


def operation_identifier(name: str) -> str:
    """``name`` with every run of characters other than letters, digits and ``_`` as one ``_``."""
    identifier = _NOT_IDENTIFIER.sub("_", name).strip("_") or "operation"
    return f"_{identifier}" if identifier[0].isdigit() else identifier


def _path_parameters(path: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = [
        {
            "name": match[1],
            "in": "path",
            "required": True,
            "schema": dict(_CONVERTOR_SCHEMAS.get(match[2] or "str", {"type": "string"})),
        }
        for match in _PARAM.finditer(path)
    ]
    return _PARAM.sub(r"{\1}", path), parameters


def _operation(
    route: HttpRoute,
    operation_id: str,
    parameters: list[dict[str, Any]],
    components: SchemaComponents,
) -> dict[str, Any]:
    config, trigger = route.step.config, route.trigger
    operation: dict[str, Any] = {"operationId": operation_id, "summary": route.step.name}
    if config.description:
        operation["description"] = config.description
    if config.flows:
        operation["tags"] = list(config.flows)
    parameters = parameters + _query_parameters(trigger.query_params or ())
    if parameters:
        operation["parameters"] = parameters
    if trigger.body_schema is not None:
        schema = components.add(trigger.body_schema, "validation")
        content = {"application/json": {"schema": schema}}
        operation["requestBody"] = {"required": True, "content": content}
    operation["responses"] = _responses(route, components)
    return operation


def _query_parameters(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Motia's ``[{"name": ..., "description": ...}]`` (or plain names); others are skipped."""
    plain = (_as_dict(item) for item in items)
    return [_query_parameter(item) for item in plain if isinstance(_name_of(item), str)]


def _as_dict(item: Any) -> Any:
    """A ``QueryParam`` model as Motia's dict."""
    dump = getattr(item, "model_dump", None)
    return dump() if callable(dump) else item


def _name_of(item: Any) -> Any:
    return item.get("name") if isinstance(item, dict) else item


def _query_parameter(item: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": item, "in": "query", "required": False, "schema": {"type": "string"}}
    parameter: dict[str, Any] = {"name": item["name"], "in": "query"}
    if item.get("description"):
        parameter["description"] = str(item["description"])
    parameter["required"] = bool(item.get("required", False))
    parameter["schema"] = item.get("schema") or {"type": "string"}
    return parameter


def _responses(route: HttpRoute, components: SchemaComponents) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, source in (route.trigger.response_schema or {}).items():
        schema = components.add(source, "serialization")
        responses[str(status)] = {
            "description": _phrase(status),
            "content": {"application/json": {"schema": schema}},
        }
    if streams_events(route):
        responses.setdefault("200", _EVENT_STREAM_RESPONSE)
    for code, name in _error_statuses(route):
        responses.setdefault(code, {"$ref": f"#/components/responses/{name}"})
    responses.setdefault("default", {"description": "The step's response"})
    return dict(sorted(responses.items(), key=lambda item: (item[0] == "default", item[0])))


_EVENT_STREAM_RESPONSE = {
    "description": "Server-Sent Events, sent as they happen",
    "content": {_EVENT_STREAM: {"schema": {"type": "string"}}},
}


def streams_events(route: HttpRoute) -> bool:
    """Whether the route answers with an event stream, as far as its step declares it."""
    if route.trigger.heartbeat_interval is not None:
        return True
    return _EVENT_STREAM in _source_of(route.step.handler)


def _source_of(handler: Any) -> str:
    try:
        return inspect.getsource(handler)
    except (OSError, TypeError):
        return ""


def _error_statuses(route: HttpRoute) -> list[tuple[str, str]]:
    errors = [("400", "BadRequest"), ("413", "PayloadTooLarge")]
    if route.trigger.condition is not None:
        errors.append(("422", "ConditionNotMet"))
    errors.append(("500", "InternalServerError"))
    return errors


def _phrase(status: Any) -> str:
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:
        return f"Status {status}"


# -- the runtime's own error responses (request.RequestRefused, response.send_failure) ------

_STRING = {"type": "string"}

_ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "A request the runtime refused, or a handler that failed.",
        "properties": {"error": _STRING, "trace_id": _STRING},
        "required": ["error"],
    },
    "FieldError": {
        "type": "object",
        "properties": {"path": _STRING, "message": _STRING},
        "required": ["path", "message"],
    },
    "ValidationError": {
        "type": "object",
        "description": "A malformed body, or (with `errors`) one that failed the step's schema.",
        "properties": {
            "error": _STRING,
            "errors": {"type": "array", "items": component_ref("FieldError")},
        },
        "required": ["error"],
    },
    "BodyTooLarge": {
        "type": "object",
        "properties": {"error": _STRING, "limit": {"type": "integer"}},
        "required": ["error", "limit"],
    },
    "ConditionNotMet": {
        "type": "object",
        "properties": {"error": {"const": "Request condition not met"}, "skipped": {"const": True}},
        "required": ["error", "skipped"],
    },
}


def _json(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": component_ref(schema)}},
    }


_ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _json(
        "The body is not valid JSON or does not match the step's schema", "ValidationError"
    ),
    "PayloadTooLarge": _json("The body is larger than the app's limit", "BodyTooLarge"),
    "ConditionNotMet": _json(
        "The trigger's condition was false; the step did not run", "ConditionNotMet"
    ),
    "InternalServerError": _json("The step's handler raised an error", "Error"),
}


def _define_errors(components: SchemaComponents) -> None:
    """Add the error schemas (first, so that they keep their names)."""
    for name, schema in _ERROR_SCHEMAS.items():
        components.define(name, copy.deepcopy(schema))
