"""``StepConfig`` and the checks that turn a user's config into one.

A config arrives as a dict (snake_case or Motia's camelCase keys) or as a
``StepConfig``; triggers arrive as trigger objects or Motia's dicts. Every
problem is reported as a message that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from motia import triggers as t
from motia._project.cron_schedule import CronSchedule
from motia._project.legacy_config import from_legacy
from motia._project.model_like import ModelLike
from motia._project.names import snake_keys
from motia._project.queue_config import QueueConfig
from motia._project.schema import compile_schema
from motia.exceptions import ConfigError, InvalidCronExpression

__all__ = ["HTTP_METHODS", "Enqueue", "StepConfig", "parse_step_config"]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


@dataclass(slots=True)
class Enqueue(ModelLike):
    topic: str
    label: str | None = None
    conditional: bool = False


@dataclass(slots=True)
class StepConfig(ModelLike):
    aliases: ClassVar[dict[str, str]] = {
        "virtual_enqueues": "virtualEnqueues",
        "virtual_subscribes": "virtualSubscribes",
        "include_files": "includeFiles",
    }

    name: str
    triggers: list[t.Trigger]
    description: str | None = None
    flows: list[str] = field(default_factory=list)
    enqueues: list[str | Enqueue] = field(default_factory=list)
    virtual_enqueues: list[str | Enqueue] = field(default_factory=list)
    virtual_subscribes: list[str] = field(default_factory=list)
    include_files: list[str] = field(default_factory=list)

    @property
    def enqueue_topics(self) -> list[str]:
        return [e if isinstance(e, str) else e.topic for e in self.enqueues]

    @classmethod
    def model_validate(cls, value: Any) -> StepConfig:
        return parse_step_config(value)


_KNOWN_KEYS = {f.name for f in fields(StepConfig)}


def parse_step_config(value: Any) -> StepConfig:
    """Validate a dict or ``StepConfig``; raise ``ConfigError`` on the first problem."""
    if isinstance(value, StepConfig):
        value = {f.name: getattr(value, f.name) for f in fields(StepConfig)}
    if not isinstance(value, dict):
        raise ConfigError(f"config must be a dict or StepConfig, got {type(value).__name__}")
    raw = from_legacy(snake_keys(value))
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"config has unknown key(s) {unknown}; known keys: {sorted(_KNOWN_KEYS)}")
    return StepConfig(
        name=_name(raw.get("name")),
        triggers=_triggers(raw.get("triggers")),
        description=_optional_str(raw, "description"),
        flows=_str_list(raw, "flows"),
        enqueues=_enqueues(raw, "enqueues"),
        virtual_enqueues=_enqueues(raw, "virtual_enqueues"),
        virtual_subscribes=_str_list(raw, "virtual_subscribes"),
        include_files=_str_list(raw, "include_files"),
    )


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f'config["name"] must be a non-empty string, got {value!r}; '
            'add a unique name, e.g. "name": "CreateTodo"'
        )
    return value


def _optional_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f'config["{key}"] must be a string, got {type(value).__name__}')
    return value


def _str_list(raw: dict[str, Any], key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'config["{key}"] must be a list of strings, got {value!r}')
    return list(value)


def _enqueues(raw: dict[str, Any], key: str) -> list[str | Enqueue]:
    value = raw.get(key) or []
    if not isinstance(value, list | tuple):
        raise ConfigError(f'config["{key}"] must be a list, got {type(value).__name__}')
    return [_enqueue(item, key) for item in value]


def _enqueue(item: Any, key: str) -> str | Enqueue:
    if isinstance(item, str | Enqueue):
        return item
    if isinstance(item, dict) and isinstance(item.get("topic"), str):
        return Enqueue(item["topic"], item.get("label"), bool(item.get("conditional", False)))
    raise ConfigError(
        f'config["{key}"] items must be topic strings or {{"topic": ..., "label": ...}}, '
        f"got {item!r}"
    )


def _triggers(value: Any) -> list[t.Trigger]:
    if not isinstance(value, list | tuple):
        got = "nothing" if value is None else type(value).__name__
        raise ConfigError(
            f'config["triggers"] must be a list of triggers, got {got}; '
            'e.g. "triggers": [http("GET", "/hello")]'
        )
    if not value:
        raise ConfigError(
            'config["triggers"] is empty; a step needs at least one trigger, '
            'e.g. "triggers": [http("GET", "/hello")]'
        )
    return [_trigger(item, index) for index, item in enumerate(value)]


def _trigger(value: Any, index: int) -> t.Trigger:
    trigger: t.Trigger = _from_dict(value, index) if isinstance(value, dict) else value
    check = _CHECKS.get(type(trigger))
    if check is None:
        raise ConfigError(
            f'config["triggers"][{index}] is not a trigger (got {value!r}); use http(), '
            "queue(), cron(), state() or stream() from motia"
        )
    check(trigger, index)
    return trigger


def _from_dict(value: dict[str, Any], index: int) -> Any:
    raw = snake_keys(value)
    kind = raw.pop("type", None)
    builder = _DICT_BUILDERS.get(kind)
    if builder is None:
        raise ConfigError(
            f'config["triggers"][{index}] has unknown type {kind!r}; '
            f"expected one of {sorted(_DICT_BUILDERS)}"
        )
    try:
        return builder(raw)
    except TypeError as exc:
        raise ConfigError(f'config["triggers"][{index}] ({kind}): {exc}') from None


def _http_from_dict(raw: dict[str, Any]) -> t.HttpTrigger:
    return t.HttpTrigger(**raw)


def _queue_from_dict(raw: dict[str, Any]) -> t.QueueTrigger:
    if "config" in raw and raw["config"] is not None:
        raw["config"] = QueueConfig.from_value(raw["config"])
    return t.QueueTrigger(**raw)


def _cron_from_dict(raw: dict[str, Any]) -> t.CronTrigger:
    if "cron" in raw:
        raw["expression"] = raw.pop("cron")
    return t.CronTrigger(**raw)


_DICT_BUILDERS: dict[Any, Callable[[dict[str, Any]], Any]] = {
    "http": _http_from_dict,
    "api": _http_from_dict,
    "queue": _queue_from_dict,
    "event": _queue_from_dict,
    "cron": _cron_from_dict,
    "state": lambda raw: t.StateTrigger(**raw),
    "stream": lambda raw: t.StreamTrigger(**raw),
}


def _check_http(trigger: t.HttpTrigger, index: int) -> None:
    where = f'config["triggers"][{index}]'
    method = trigger.method.upper() if isinstance(trigger.method, str) else trigger.method
    if method not in HTTP_METHODS:
        raise ConfigError(
            f"{where}: HTTP method {trigger.method!r} is not supported; "
            f"use one of {', '.join(HTTP_METHODS)}"
        )
    trigger.method = method
    if not isinstance(trigger.path, str) or not trigger.path.startswith("/"):
        raise ConfigError(f'{where}: path {trigger.path!r} must start with "/", e.g. "/todo/:id"')
    if trigger.body_schema is not None:
        _check_schema(trigger.body_schema, f"{where}.body_schema")
    for status, schema in (trigger.response_schema or {}).items():
        _check_schema(schema, f"{where}.response_schema[{status}]")
    _check_callables(trigger.middleware or [], f"{where}.middleware")
    _check_query_params(trigger.query_params, f"{where}.query_params")
    _check_condition(trigger, where)
    for name in ("heartbeat_interval", "send_timeout"):
        _check_seconds(getattr(trigger, name), f"{where}.{name}")


def _check_queue(trigger: t.QueueTrigger, index: int) -> None:
    where = f'config["triggers"][{index}]'
    if not isinstance(trigger.topic, str) or not trigger.topic:
        raise ConfigError(f"{where}: queue topic must be a non-empty string")
    if trigger.input is not None:
        _check_schema(trigger.input, f"{where}.input")
    _check_condition(trigger, where)


def _check_cron(trigger: t.CronTrigger, index: int) -> None:
    where = f'config["triggers"][{index}]'
    try:
        CronSchedule(trigger.expression)
    except InvalidCronExpression as exc:
        raise ConfigError(f"{where}: {exc}") from None
    _check_condition(trigger, where)


def _check_state(trigger: t.StateTrigger, index: int) -> None:
    _check_condition(trigger, f'config["triggers"][{index}]')


def _check_stream(trigger: t.StreamTrigger, index: int) -> None:
    where = f'config["triggers"][{index}]'
    if not isinstance(trigger.stream_name, str) or not trigger.stream_name:
        raise ConfigError(f"{where}: stream trigger needs a stream name")
    _check_condition(trigger, where)


_CHECKS: dict[type, Callable[[Any, int], None]] = {
    t.HttpTrigger: _check_http,
    t.QueueTrigger: _check_queue,
    t.CronTrigger: _check_cron,
    t.StateTrigger: _check_state,
    t.StreamTrigger: _check_stream,
}


def _check_schema(schema: Any, where: str) -> None:
    try:
        compile_schema(schema)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_query_params(params: Any, where: str) -> None:
    def named(param: Any) -> bool:
        name = param.get("name") if isinstance(param, dict) else getattr(param, "name", param)
        return isinstance(name, str)

    if params is not None and not (isinstance(params, list | tuple) and all(map(named, params))):
        raise ConfigError(
            f'{where} must be a list of names or {{"name": ..., "description": ...}}, '
            f"got {params!r}"
        )


def _check_seconds(value: Any, where: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if value is not None and not (number and value >= 0):
        raise ConfigError(f"{where} must be a number of seconds, 0 or more, got {value!r}")


def _check_callables(values: list[Any], where: str) -> None:
    if not isinstance(values, list | tuple) or not all(callable(v) for v in values):
        raise ConfigError(f"{where} must be a list of functions fn(args, ctx, next)")


def _check_condition(trigger: Any, where: str) -> None:
    if trigger.condition is not None and not callable(trigger.condition):
        raise ConfigError(f"{where}.condition must be a function (input, ctx) -> bool")
