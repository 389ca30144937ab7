"""Trigger declarations: ``http()``, ``queue()``, ``cron()``, ``state()``, ``stream()``.

Pure data. Each trigger also accepts Motia's dict spelling through
``parse_trigger`` (``{"type": "http", "method": "GET", "path": "/x"}``).
``TriggerInfo`` tells a handler which of them fired.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from motia._project.model_like import ModelLike
from motia._project.queue_config import QueueConfig

__all__ = [
    "ApiTrigger",
    "CronTrigger",
    "HttpTrigger",
    "QueueTrigger",
    "StateTrigger",
    "StreamTrigger",
    "Trigger",
    "TriggerCondition",
    "TriggerInfo",
    "TriggerType",
    "api",
    "cron",
    "http",
    "queue",
    "state",
    "stream",
]

TriggerCondition = Callable[..., bool | Awaitable[bool]]
TriggerType = Literal["http", "queue", "cron", "state", "stream"]


class TriggerInfo(BaseModel):
    """Which trigger fired: its kind, its position in ``config["triggers"]`` and its key."""

    model_config = ConfigDict(frozen=True)

    type: TriggerType
    index: int | None = None
    path: str | None = None
    method: str | None = None
    topic: str | None = None
    expression: str | None = None


@dataclass(slots=True)
class HttpTrigger(ModelLike):
    aliases: ClassVar[dict[str, str]] = {
        "body_schema": "bodySchema",
        "response_schema": "responseSchema",
        "query_params": "queryParams",
        "heartbeat_interval": "heartbeatInterval",
    }

    method: str
    path: str
    body_schema: Any = None
    response_schema: dict[int, Any] | None = None
    query_params: list[Any] | None = None
    middleware: list[Callable[..., Any]] | None = None
    condition: TriggerCondition | None = None
    heartbeat_interval: float | None = None
    send_timeout: float | None = None
    type: Literal["http"] = "http"


@dataclass(slots=True)
class QueueTrigger(ModelLike):
    topic: str
    input: Any = None
    config: QueueConfig | None = None
    condition: TriggerCondition | None = None
    infrastructure: Any = None
    type: Literal["queue"] = "queue"

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> QueueTrigger:
        if raw.get("config") is not None:
            raw = {**raw, "config": QueueConfig.from_value(raw["config"])}
        return cls(**raw)


@dataclass(slots=True)
class CronTrigger(ModelLike):
    expression: str
    condition: TriggerCondition | None = None
    type: Literal["cron"] = "cron"


@dataclass(slots=True)
class StateTrigger(ModelLike):
    condition: TriggerCondition | None = None
    type: Literal["state"] = "state"


@dataclass(slots=True)
class StreamTrigger(ModelLike):
    aliases: ClassVar[dict[str, str]] = {
        "stream_name": "streamName",
        "group_id": "groupId",
        "item_id": "itemId",
    }

    stream_name: str
    group_id: str | None = None
    item_id: str | None = None
    condition: TriggerCondition | None = None
    type: Literal["stream"] = "stream"


Trigger = HttpTrigger | QueueTrigger | CronTrigger | StateTrigger | StreamTrigger
ApiTrigger = HttpTrigger


def http(
    method: str,
    path: str,
    *,
    body_schema: Any = None,
    response_schema: dict[int, Any] | None = None,
    query_params: list[Any] | None = None,
    middleware: list[Callable[..., Any]] | None = None,
    condition: TriggerCondition | None = None,
    heartbeat_interval: float | None = None,
    send_timeout: float | None = None,
) -> HttpTrigger:
    """An HTTP trigger; ``heartbeat_interval`` and ``send_timeout`` override the app's SSE
    ping interval and streaming send timeout for this trigger."""
    return HttpTrigger(
        method=method,
        path=path,
        body_schema=body_schema,
        response_schema=response_schema,
        query_params=query_params,
        middleware=middleware,
        condition=condition,
        heartbeat_interval=heartbeat_interval,
        send_timeout=send_timeout,
    )


def api(method: str, path: str, **options: Any) -> HttpTrigger:
    """Deprecated alias of ``http()``."""
    warnings.warn("api() is deprecated, use http() instead", DeprecationWarning, stacklevel=2)
    return http(method, path, **options)


def queue(
    topic: str,
    *,
    input: Any = None,
    config: QueueConfig | dict[str, Any] | None = None,
    condition: TriggerCondition | None = None,
    infrastructure: Any = None,
) -> QueueTrigger:
    queue_config = QueueConfig.from_value(config) if config is not None else None
    return QueueTrigger(
        topic=topic,
        input=input,
        config=queue_config,
        condition=condition,
        infrastructure=infrastructure,
    )


def cron(expression: str, *, condition: TriggerCondition | None = None) -> CronTrigger:
    return CronTrigger(expression=expression, condition=condition)


def state(*, condition: TriggerCondition | None = None) -> StateTrigger:
    return StateTrigger(condition=condition)


def stream(
    stream_name: str,
    *,
    group_id: str | None = None,
    item_id: str | None = None,
    condition: TriggerCondition | None = None,
) -> StreamTrigger:
    return StreamTrigger(
        stream_name=stream_name, group_id=group_id, item_id=item_id, condition=condition
    )
