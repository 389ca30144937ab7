"""The one JSON policy for every byte the runtime writes: responses, SSE, streams, storage.

Compact separators, text as it is (no ``\\uXXXX`` escapes for non-ASCII), no ``NaN`` or
``Infinity`` (they are not JSON, and browsers' ``JSON.parse`` rejects them), pydantic
models as their JSON dump by alias. ``dumps_lenient`` is for log lines and the console,
where anything is better than an error: unknown objects become their ``str()``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

__all__ = ["dumps", "dumps_bytes", "dumps_lenient", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with pydantic models (at the top) replaced by their JSON-mode dump."""
    return _model_dump(value) if isinstance(value, BaseModel) else value


def dumps(value: Any) -> str:
    """JSON text by the policy; raises ``TypeError``/``ValueError`` on what is not JSON."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_strict
    )


def dumps_bytes(value: Any) -> bytes:
    return dumps(value).encode()


def dumps_lenient(value: Any) -> str:
    """JSON text for display: never raises; what is not JSON becomes a string."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_lenient)


def _model_dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def _strict(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _model_dump(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _lenient(value: Any) -> Any:
    return _model_dump(value) if isinstance(value, BaseModel) else str(value)
