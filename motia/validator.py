"""Motia's ``motia.validator`` import path: checks of schemas and step configs that
return a list of problems (empty when there is none) instead of raising."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from motia._project.config import parse_step_config
from motia.exceptions import ConfigError

__all__ = [
    "check_schema_compatibility",
    "pydantic_to_json_schema",
    "validate_schema",
    "validate_step",
    "validate_step_config",
]

_SCHEMA_ROOTS = ("type", "$ref", "anyOf", "oneOf")
_REQUIRED_STEP_KEYS = ("name", "triggers")


def validate_schema(schema: Any) -> list[str]:
    """Problems of shape in a JSON Schema's top level (Motia's checks, not a full meta-check)."""
    if not isinstance(schema, dict):
        return ["Schema must be a dictionary"]
    problems = []
    if not any(key in schema for key in _SCHEMA_ROOTS):
        problems.append("Schema should have a 'type', '$ref', 'anyOf', or 'oneOf' property")
    shapes: dict[Any, list[tuple[str, type, str]]] = {
        "object": [("properties", dict, "a dictionary"), ("required", list, "a list")],
        "array": [("items", dict, "a dictionary")],
    }
    for key, kind, described in shapes.get(schema.get("type"), []):
        if key in schema and schema[key] is not None and not isinstance(schema[key], kind):
            problems.append(f"'{key}' must be {described}")
    return problems


def validate_step_config(config: Any) -> list[str]:
    """Problems of an object read as a step config through its ``name`` and ``triggers``."""
    if not hasattr(config, "name"):
        return ["Step config must have a 'name' property"]
    problems = []
    if not config.name:
        problems.append("Step name cannot be empty")
    if not getattr(config, "triggers", None):
        problems.append("Step must have at least one trigger")
    return problems


def validate_step(config: Any) -> list[str]:
    """Problems of a ``StepConfig`` or config dict, as this runtime's loader reports them."""
    if isinstance(config, Mapping):
        missing = [key for key in _REQUIRED_STEP_KEYS if key not in config]
        if missing:
            return [f"Field required: {key}" for key in missing]
    try:
        parse_step_config(config)
    except ConfigError as exc:
        return [str(exc)]
    return []


def pydantic_to_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def check_schema_compatibility(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Why two schemas of one topic disagree: their types, or a required field the other lacks."""
    problems = []
    if first.get("type") != second.get("type"):
        problems.append(f"Type mismatch: {first.get('type')} vs {second.get('type')}")
    elif first.get("type") == "object":
        for needs, lacks, which in ((first, second, "second"), (second, first, "first")):
            missing = sorted(set(needs.get("required", [])) - set(lacks.get("properties", {})))
            if missing:
                problems.append(f"Required fields missing in {which} schema: {missing}")
    return problems
