"""``schema_to_json_schema``: a pydantic model or JSON Schema dict as a JSON Schema dict."""

from __future__ import annotations

from typing import Any

from motia._project.schema import to_json_schema

__all__ = ["schema_to_json_schema"]


def schema_to_json_schema(schema: Any) -> dict[str, Any] | None:
    return None if schema is None else to_json_schema(schema)
