"""Motia 0.x step configs (``"type": "api" | "event" | "cron"``) mapped to 1.0 triggers.

Many tutorials still write ``{"type": "api", "method": "POST", "path": "/x",
"emits": [...]}``. Such a config loads as its 1.0 twin; a ``FutureWarning`` (shown by
default) once per step shows the 1.0 spelling to move to.
"""

from __future__ import annotations

import warnings
from typing import Any

from motia._project.triggers import cron, http, queue
from motia.exceptions import ConfigError

__all__ = ["LEGACY_KEYS", "from_legacy"]

_RENAMED = {"emits": "enqueues", "virtual_emits": "virtual_enqueues"}
_API_KEYS = ("method", "path", "body_schema", "response_schema", "query_params", "middleware")
LEGACY_KEYS = frozenset({"type", "subscribes", "input", "cron", *_RENAMED, *_API_KEYS})
_warned: set[str] = set()


def from_legacy(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` (snake_case keys) in 1.0 form; unchanged when it is already 1.0."""
    kind = raw.get("type")
    if kind is None and "emits" not in raw and "subscribes" not in raw:
        return raw
    if "triggers" in raw:
        return {_RENAMED.get(key, key): value for key, value in raw.items() if key != "type"}
    if kind is None and "subscribes" in raw:
        kind = "event"
    converted = {k: v for k, v in raw.items() if k not in LEGACY_KEYS}
    converted["triggers"], spelled = _triggers(kind, raw)
    for old, new in _RENAMED.items():
        if old in raw:
            converted[new] = raw[old]
    _warn_once(raw.get("name"), spelled, converted.get("enqueues"))
    return converted


def _triggers(kind: Any, raw: dict[str, Any]) -> tuple[list[Any], str]:
    if kind == "api":
        options = {key: raw[key] for key in _API_KEYS[2:] if raw.get(key) is not None}
        method, path = raw.get("method", ""), raw.get("path", "")
        return [http(method, path, **options)], f"http({method!r}, {path!r})"
    if kind == "event":
        topics = raw.get("subscribes") or []
        if not isinstance(topics, list) or not topics:
            raise ConfigError('an "event" step needs "subscribes": ["topic", ...]')
        given = raw.get("input")
        triggers = [queue(topic, input=given) for topic in topics]
        return triggers, ", ".join(f"queue({topic!r})" for topic in topics)
    if kind == "cron":
        return [cron(raw.get("cron", ""))], f"cron({raw.get('cron')!r})"
    raise ConfigError(
        f'config["type"] {kind!r} is a Motia 0.x step type this runtime does not run; '
        'use "triggers": [http(...)], [queue(...)] or [cron(...)]'
    )


def _warn_once(name: Any, triggers: str, enqueues: Any) -> None:
    if name in _warned:
        return
    _warned.add(name)
    spelled = f'"triggers": [{triggers}]'
    if enqueues:
        spelled += f', "enqueues": {enqueues!r}'
    warnings.warn(
        f'step {name!r} uses the Motia 0.x config ("type", "emits", "subscribes", ...); '
        f"it runs as is, and in Motia 1.0 is written {spelled}",
        FutureWarning,
        stacklevel=2,
    )
