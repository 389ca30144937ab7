"""The runtime's own error responses as OpenAPI components (shapes: ``_http.endpoint``)."""

from __future__ import annotations

import copy
from typing import Any

from motia._http.openapi_schemas import SchemaComponents, component_ref

__all__ = ["ERROR_RESPONSES", "ERROR_SCHEMAS", "define_errors"]

_STRING = {"type": "string"}

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
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


ERROR_RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": _json(
        "The body is not valid JSON or does not match the step's schema", "ValidationError"
    ),
    "PayloadTooLarge": _json("The body is larger than the app's limit", "BodyTooLarge"),
    "ConditionNotMet": _json(
        "The trigger's condition was false; the step did not run", "ConditionNotMet"
    ),
    "InternalServerError": _json("The step's handler raised an error", "Error"),
}


def define_errors(components: SchemaComponents) -> None:
    """Add the error schemas (first, so that they keep their names)."""
    for name, schema in ERROR_SCHEMAS.items():
        components.define(name, copy.deepcopy(schema))
