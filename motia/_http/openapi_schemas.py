"""``SchemaComponents``: JSON Schemas gathered into an OpenAPI ``components/schemas``.

A pydantic model's schema keeps its sub-models in ``$defs`` and points at them
with ``#/$defs/Name``; inside an OpenAPI document those pointers would resolve
against the document root and dangle. Each schema added here has its
definitions moved into ``components/schemas`` and its references rewritten.
Two different schemas that want the same name get ``Name2``, ``Name3``...
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.errors import PydanticInvalidForJsonSchema

__all__ = ["SchemaComponents", "component_ref"]

_DEFINITIONS = ("$defs", "definitions")
_INVALID_NAME = re.compile(r"[^A-Za-z0-9._-]")

Mode = Literal["validation", "serialization"]


def component_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


class SchemaComponents:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def add(self, source: Any, mode: Mode = "validation") -> dict[str, Any]:
        """The schema to embed for ``source`` (a pydantic model class or a JSON Schema dict)."""
        if isinstance(source, type) and issubclass(source, BaseModel):
            try:
                schema = source.model_json_schema(by_alias=True, mode=mode)
            except PydanticInvalidForJsonSchema as exc:
                return {"description": f"{source.__name__} has no JSON Schema: {exc}"}
            return self._named(source.__name__, self._hoisted(schema))
        return self._hoisted(copy.deepcopy(dict(source)))

    def define(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        """Register ``schema`` under ``name`` (or a free variant); return a reference to it."""
        return self._named(name, schema)

    def _named(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        if set(schema) == {"$ref"}:
            return schema  # a recursive model's schema is only a pointer into its own $defs
        final = self._free_name(_valid_name(name), schema)
        self.schemas[final] = schema
        return component_ref(final)

    def _hoisted(self, schema: dict[str, Any]) -> dict[str, Any]:
        definitions = {
            (key, name): value
            for key in _DEFINITIONS
            for name, value in schema.pop(key, {}).items()
        }
        names = self._names_for(definitions)
        for (key, name), value in definitions.items():
            self.schemas[names[key, name]] = _rewritten(value, names)
        rewritten: dict[str, Any] = _rewritten(schema, names)
        return rewritten

    def _names_for(self, definitions: dict[tuple[str, str], Any]) -> dict[tuple[str, str], str]:
        names = {key: _valid_name(key[1]) for key in definitions}
        renamed = True
        while renamed:  # each definition is renamed at most once, so this ends
            renamed = False
            for key, value in definitions.items():
                existing = self.schemas.get(names[key])
                if existing is not None and existing != _rewritten(value, names):
                    taken = set(names.values())
                    names[key] = self._fresh(names[key], taken)
                    renamed = True
        return names

    def _free_name(self, name: str, schema: Any) -> str:
        existing = self.schemas.get(name)
        if existing is None or existing == schema:
            return name
        return self._fresh(name, set())

    def _fresh(self, name: str, taken: set[str]) -> str:
        number = 2
        while f"{name}{number}" in self.schemas or f"{name}{number}" in taken:
            number += 1
        return f"{name}{number}"


def _valid_name(name: str) -> str:
    """OpenAPI component names must match ``^[a-zA-Z0-9._-]+$`` (``Page[Todo]`` does not)."""
    return _INVALID_NAME.sub("_", name) or "Schema"


def _rewritten(value: Any, names: dict[tuple[str, str], str]) -> Any:
    if isinstance(value, list):
        return [_rewritten(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: _rewritten(item, names) for key, item in value.items()}
    ref = value.get("$ref")
    if isinstance(ref, str):
        result["$ref"] = _rewritten_ref(ref, names)
    return result


def _rewritten_ref(ref: str, names: dict[tuple[str, str], str]) -> str:
    for key in _DEFINITIONS:
        prefix = f"#/{key}/"
        if ref.startswith(prefix):
            name, _, rest = ref.removeprefix(prefix).partition("/")
            final = names.get((key, name))
            if final is not None:
                return f"#/components/schemas/{final}" + (f"/{rest}" if rest else "")
    return ref
