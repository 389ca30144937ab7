"""Key spelling: Motia code writes camelCase, Python code snake_case; both are accepted."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["snake_keys", "to_snake"]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


def to_snake(name: str) -> str:
    """``bodySchema`` -> ``body_schema``; snake_case names are returned unchanged."""
    return _CAMEL_BOUNDARY.sub(r"_\1", name).lower()


def snake_keys(mapping: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``mapping`` (top level only) with every key in snake_case."""
    return {to_snake(key): value for key, value in mapping.items()}
