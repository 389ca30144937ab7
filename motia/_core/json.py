"""The one JSON policy for every byte the runtime writes: responses, SSE, streams, storage.

Compact separators, text as it is (no ``\\uXXXX`` escapes for non-ASCII), no ``NaN`` or
``Infinity`` (they are not JSON, and browsers' ``JSON.parse`` rejects them), pydantic
models as their JSON dump by alias, at any depth. pydantic-core does the encoding: it is
several times faster than the standard library on a response-sized value, and it writes
what a model's own JSON dump would (dates, UUIDs, enums as their JSON form). ``dumps_lenient``
is for log lines and the console, where anything is better than an error: unknown objects
become their ``str()``. ``loads`` reads JSON by the same policy: no ``NaN``, no ``Infinity``,
and no number past a float's range (``1e999`` would be read as infinity).
"""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
from pydantic import BaseModel

__all__ = ["dumps", "dumps_bytes", "dumps_lenient", "jsonable", "loads", "may_not_be_finite"]

# A float overflows to infinity only with a 3-digit exponent or 309 digits before the point.
# Both are found as plain substrings once every digit reads 0, "E" reads "e" and "+" is gone
# (a translation and a find cost a tenth of a regular expression's search).
_SQUASH = bytes.maketrans(b"123456789E", b"000000000e")
_HUGE_EXPONENT = b"0e000"
_LONG_NUMBER = b"0" * 309


def jsonable(value: Any) -> Any:
    """``value`` with pydantic models (at the top) replaced by their JSON-mode dump."""
    return _model_dump(value) if isinstance(value, BaseModel) else value


def dumps_bytes(value: Any) -> bytes:
    """UTF-8 JSON by the policy; raises ``ValueError`` on what is not JSON (``NaN`` too)."""
    data = pydantic_core.to_json(value)  # its PydanticSerializationError is a ValueError
    # find() costs half of `in` on bytes; it also hits the words in text, hence the recheck.
    if (data.find(b"NaN") >= 0 or data.find(b"Infinity") >= 0) and data != _nan_as_null(value):
        raise ValueError("NaN and Infinity are not JSON")
    return data


def dumps(value: Any) -> str:
    """JSON text by the policy; raises ``ValueError`` on what is not JSON."""
    return dumps_bytes(value).decode()


def loads(raw: bytes) -> Any:
    """A value from JSON by the policy; raises ``ValueError`` on what is not JSON, ``NaN``,
    ``Infinity`` and numbers too large for a float included."""
    value = pydantic_core.from_json(raw, allow_inf_nan=False)
    if _may_overflow(raw):
        try:
            dumps_bytes(value)
        except ValueError:
            raise ValueError("a number is too large for a 64-bit float") from None
    return value


def may_not_be_finite(raw: bytes) -> bool:
    """Whether ``raw`` may hold ``NaN``, ``Infinity`` or a number too large for a float:
    quick, and never wrong when it says no."""
    return raw.find(b"NaN") >= 0 or raw.find(b"Infinity") >= 0 or _may_overflow(raw)


def _may_overflow(raw: bytes) -> bool:
    squashed = raw.translate(_SQUASH, b"+")
    return squashed.find(_HUGE_EXPONENT) >= 0 or (
        len(raw) > 308 and squashed.find(_LONG_NUMBER) >= 0
    )


def dumps_lenient(value: Any) -> str:
    """JSON text for display: never raises; what is not JSON becomes a string."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_lenient)


def _nan_as_null(value: Any) -> bytes:
    return pydantic_core.to_json(value, inf_nan_mode="null")


def _model_dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True)


def _lenient(value: Any) -> Any:
    return _model_dump(value) if isinstance(value, BaseModel) else str(value)
