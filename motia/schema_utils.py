"""``schema_to_json_schema``: a pydantic model or JSON Schema dict as a JSON Schema dict."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["schema_to_json_schema"]


def schema_to_json_schema(schema: Any) -> dict[str, Any] | None:
    """As in Motia's SDK: a dict is returned as it is (the same object), a pydantic
    model class gives its JSON Schema, anything else gives None."""
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return None
