"""``example_of``: a plausible example value for a JSON Schema (to prefill request forms)."""

from __future__ import annotations

from typing import Any

__all__ = ["example_of"]

_MAX_DEPTH = 8
_STRINGS = {
    "date-time": "2024-01-01T12:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def example_of(schema: dict[str, Any] | None) -> Any:
    """An example value that ``schema`` accepts (best effort; ``$ref``s to ``$defs`` followed)."""
    if not schema:
        return None
    return _example(schema, schema.get("$defs") or schema.get("definitions") or {}, 0)


def _example(schema: Any, defs: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    schema = _resolve(schema, defs)
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _first_choice(schema[key], defs, depth)
    return _typed(schema, _type(schema), defs, depth)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and "/" in ref:
        target = defs.get(ref.rsplit("/", 1)[1])
        if isinstance(target, dict):
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _first_choice(choices: list[Any], defs: dict[str, Any], depth: int) -> Any:
    """The first choice that is not ``null`` (an optional field shows its real type)."""
    for choice in choices:
        if isinstance(choice, dict) and choice.get("type") != "null":
            return _example(choice, defs, depth + 1)
    return None


def _type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and "properties" in schema:
        return "object"
    return kind if isinstance(kind, str) else None


def _typed(schema: dict[str, Any], kind: str | None, defs: dict[str, Any], depth: int) -> Any:
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: _example(sub, defs, depth + 1) for name, sub in properties.items()}
    if kind == "array":
        item = _example(schema.get("items"), defs, depth + 1)
        return [] if item is None else [item]
    if kind == "string":
        return _STRINGS.get(schema.get("format", ""), _string_for(schema))
    if kind in ("integer", "number"):
        minimum = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return max(1, minimum) if kind == "integer" else float(max(1, minimum))
    if kind == "boolean":
        return True
    return None


def _string_for(schema: dict[str, Any]) -> str:
    title = schema.get("title")
    text = str(title).lower() if title else "text"
    min_length = int(schema.get("minLength", 0))
    return text.ljust(min_length, "x")
