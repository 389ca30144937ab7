"""JSON values and the five update ops shared by state and streams.

``apply_ops`` is a pure function: it validates every op before applying any,
works on a deep copy and returns the new value, so a refused update changes
nothing. Paths name a single top-level key (``"a.b"`` is the key ``"a.b"``,
not a nested field); the empty path ``""`` means the whole value.

``ensure_json`` turns a user value into a JSON-safe deep copy, dumping
pydantic models by alias, and refuses anything JSON cannot represent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from pydantic import BaseModel

from motia.exceptions import InvalidUpdateOp, UnstorableValue

__all__ = [
    "JSON",
    "OP_TYPES",
    "apply_ops",
    "ensure_json",
]

JSON: TypeAlias = Any
"""Any value JSON can represent: dict (str keys), list, str, int, float, bool or None."""

OP_TYPES = ("set", "merge", "increment", "decrement", "remove")


# --- ensure_json -----------------------------------------------------------------------------


def ensure_json(value: Any) -> JSON:
    """Return a JSON-safe deep copy of ``value`` or raise ``UnstorableValue``."""
    try:
        return _plain_copy(value)
    except TypeError:  # not plain: the walk that knows where it is converts it, or says where
        return _to_json(value, "$")


_ATOMS = frozenset((str, int, bool, type(None)))


def _plain_copy(value: Any) -> JSON:
    """The deep copy of a value built of exactly dict, list, str, int, bool, None and
    finite floats, the common case, without keeping track of paths; TypeError otherwise."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError
            copy[key] = _plain_copy(item)
        return copy
    if kind is list:
        return [_plain_copy(item) for item in value]
    if kind is float and math.isfinite(value):
        return value
    raise TypeError


def _to_json(value: Any, path: str) -> JSON:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnstorableValue(path, f"{value!r} is not a finite number")
        return value
    if isinstance(value, BaseModel):
        return _to_json(value.model_dump(mode="json", by_alias=True), path)
    if isinstance(value, Mapping):
        return _mapping_to_json(value, path)
    if isinstance(value, list | tuple):
        return [_to_json(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise UnstorableValue(path, f"{type(value).__name__} is not a JSON type")


def _mapping_to_json(value: Mapping[Any, Any], path: str) -> dict[str, JSON]:
    result: dict[str, JSON] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise UnstorableValue(path, f"key {key!r} is {type(key).__name__}, keys must be str")
        result[key] = _to_json(item, f"{path}.{key}")
    return result


# --- validation ------------------------------------------------------------------------------


def _fail(index: int, op: Any, expected: str) -> InvalidUpdateOp:
    return InvalidUpdateOp(f"update op #{index} {op!r}: {expected}")


def _check_path(index: int, op: dict[str, Any], *, required: bool = True) -> None:
    if "path" not in op and not required:
        return
    path = op.get("path")
    if not isinstance(path, str):
        raise _fail(index, op, "expected 'path' to be a str naming a top-level key")


def _check_number(index: int, op: dict[str, Any]) -> None:
    by = op.get("by")
    if isinstance(by, bool) or not isinstance(by, int | float):
        raise _fail(index, op, "expected 'by' to be an int or float")
    if not math.isfinite(by):
        raise _fail(index, op, "expected 'by' to be a finite number")


def _check_value(index: int, op: dict[str, Any]) -> None:
    if "value" not in op:
        raise _fail(index, op, "expected a 'value'")
    try:
        op["value"] = ensure_json(op["value"])
    except UnstorableValue as exc:
        raise _fail(index, op, f"'value' is not JSON ({exc.reason} at {exc.path})") from None


def _check_set(index: int, op: dict[str, Any]) -> None:
    _check_path(index, op)
    _check_value(index, op)


def _check_merge(index: int, op: dict[str, Any]) -> None:
    _check_path(index, op, required=False)
    if not isinstance(op.get("value"), Mapping):
        raise _fail(index, op, "expected 'value' to be a dict to merge")
    _check_value(index, op)


def _check_step(index: int, op: dict[str, Any]) -> None:
    _check_path(index, op)
    _check_number(index, op)


def _check_remove(index: int, op: dict[str, Any]) -> None:
    _check_path(index, op)
    if op["path"] == "":
        raise _fail(index, op, "expected a non-empty 'path' (delete the key to remove it all)")


_CHECKS: dict[str, Callable[[int, dict[str, Any]], None]] = {
    "set": _check_set,
    "merge": _check_merge,
    "increment": _check_step,
    "decrement": _check_step,
    "remove": _check_remove,
}


def _validated(ops: Any) -> list[dict[str, Any]]:
    if not isinstance(ops, list | tuple):
        raise InvalidUpdateOp(f"update ops must be a list of dicts, got {type(ops).__name__}")
    checked = []
    for index, op in enumerate(ops):
        if not isinstance(op, Mapping):
            raise _fail(index, op, "expected a dict like {'type': 'set', ...}")
        check = _CHECKS.get(str(op.get("type")))
        if check is None:
            raise _fail(index, op, f"expected 'type' to be one of {', '.join(OP_TYPES)}")
        copied = dict(op)
        check(index, copied)
        checked.append(copied)
    return checked


# --- application -----------------------------------------------------------------------------


def apply_ops(current: JSON | None, ops: list[dict[str, Any]]) -> JSON:
    """Apply ``ops`` in order to a copy of ``current`` and return the result.

    Raises ``InvalidUpdateOp`` naming the op's index; ``current`` is never modified.
    """
    checked = _validated(ops)
    value = ensure_json(current)
    for index, op in enumerate(checked):
        value = _APPLY[op["type"]](index, op, value)
    return value


def _as_object(index: int, op: dict[str, Any], value: JSON) -> dict[str, JSON]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(index, op, f"expected the current value to be an object, got {_kind(value)}")
    return value


def _apply_set(index: int, op: dict[str, Any], value: JSON) -> JSON:
    if op["path"] == "":
        return op["value"]
    target = _as_object(index, op, value)
    target[op["path"]] = op["value"]
    return target


def _apply_merge(index: int, op: dict[str, Any], value: JSON) -> JSON:
    path = op.get("path", "")
    if path == "":
        return {**_as_object(index, op, value), **op["value"]}
    target = _as_object(index, op, value)
    target[path] = {**_as_object(index, op, target.get(path)), **op["value"]}
    return target


def _stepped(index: int, op: dict[str, Any], number: JSON) -> int | float:
    if number is None:
        number = 0
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise _fail(index, op, f"expected a number to {op['type']}, found {_kind(number)}")
    by = op["by"] if op["type"] == "increment" else -op["by"]
    result: int | float = number + by
    return result


def _apply_step(index: int, op: dict[str, Any], value: JSON) -> JSON:
    if op["path"] == "":
        return _stepped(index, op, value)
    target = _as_object(index, op, value)
    target[op["path"]] = _stepped(index, op, target.get(op["path"]))
    return target


def _apply_remove(index: int, op: dict[str, Any], value: JSON) -> JSON:
    target = _as_object(index, op, value)
    target.pop(op["path"], None)
    return target


_APPLY: dict[str, Callable[[int, dict[str, Any], JSON], JSON]] = {
    "set": _apply_set,
    "merge": _apply_merge,
    "increment": _apply_step,
    "decrement": _apply_step,
    "remove": _apply_remove,
}


def _kind(value: JSON) -> str:
    names = {dict: "an object", list: "a list", str: "a str", bool: "a bool", type(None): "null"}
    return names.get(type(value), f"a {type(value).__name__}")
