"""``StreamConfig``: a stream's name, schema and subscription hooks (a ``*.stream.py`` file)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from motia._project.schema import Schema, compile_schema

__all__ = ["StreamConfig"]

_CAMEL_KEYS = {"baseConfig": "base_config", "onJoin": "on_join", "onLeave": "on_leave"}
_CONFIG_KEYS = ("name", "schema", "base_config", "on_join", "on_leave")


class StreamConfig:
    """A stream's name, optional schema (pydantic model or JSON Schema dict) and hooks.

    Accepts ``base_config``/``on_join``/``on_leave`` and their camelCase spellings.
    """

    __slots__ = ("base_config", "compiled_schema", "name", "on_join", "on_leave", "schema")

    def __init__(
        self,
        name: str,
        schema: Any = None,
        base_config: Mapping[str, Any] | None = None,
        on_join: Callable[..., Any] | None = None,
        on_leave: Callable[..., Any] | None = None,
        **camel_case: Any,
    ) -> None:
        options = _snake_options(
            camel_case, base_config=base_config, on_join=on_join, on_leave=on_leave
        )
        self.name = _checked_name(name)
        self.schema = schema
        self.compiled_schema: Schema | None = None if schema is None else compile_schema(schema)
        self.base_config = _checked_base_config(self.name, options["base_config"])
        self.on_join = _checked_hook(self.name, "on_join", options["on_join"])
        self.on_leave = _checked_hook(self.name, "on_leave", options["on_leave"])

    @classmethod
    def from_value(cls, value: Any) -> StreamConfig:
        """Build from a ``StreamConfig`` or a dict with either key spelling."""
        if isinstance(value, StreamConfig):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(
                f"a stream config must be a StreamConfig or a dict like "
                f"{{'name': 'todo', 'schema': Todo}}, got {type(value).__name__}"
            )
        unknown = sorted(
            str(key) for key in value if key not in _CONFIG_KEYS and key not in _CAMEL_KEYS
        )
        if unknown:
            allowed = ", ".join([*_CONFIG_KEYS, *_CAMEL_KEYS])
            raise ValueError(
                f"unknown stream config key(s) {', '.join(unknown)}; expected {allowed}"
            )
        if "name" not in value:
            raise ValueError("a stream config needs a 'name', e.g. {'name': 'todo'}")
        return cls(**value)

    def __repr__(self) -> str:
        return f"StreamConfig(name={self.name!r}, schema={self.schema!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamConfig):
            return NotImplemented
        return all(getattr(self, key) == getattr(other, key) for key in _CONFIG_KEYS)

    __hash__ = None  # type: ignore[assignment]


def _snake_options(camel_case: dict[str, Any], **snake: Any) -> dict[str, Any]:
    for key, value in camel_case.items():
        if key not in _CAMEL_KEYS:
            raise TypeError(f"StreamConfig() got an unexpected keyword argument {key!r}")
        snake_key = _CAMEL_KEYS[key]
        if snake[snake_key] is not None:
            raise TypeError(f"StreamConfig() got both {snake_key!r} and {key!r}")
        snake[snake_key] = value
    return snake


def _checked_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a stream's name must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError("a stream's name must not be empty")
    return name


def _checked_base_config(name: str, base_config: Any) -> dict[str, Any]:
    if base_config is None:
        return {"storage_type": "default"}
    if not isinstance(base_config, Mapping):
        raise TypeError(
            f"stream {name!r}: base_config must be a dict like {{'storage_type': 'default'}}, "
            f"got {type(base_config).__name__}"
        )
    return dict(base_config)


def _checked_hook(name: str, hook_name: str, hook: object) -> Callable[..., Any] | None:
    if hook is None or callable(hook):
        return hook
    raise TypeError(f"stream {name!r}: {hook_name} must be callable, got {type(hook).__name__}")
