"""A stream subscription as hooks see it, and the calls to ``on_join`` / ``on_leave``.

Hooks are called as ``hook(subscription, ctx, auth_context)``, sync or async. A
sync hook runs on the event loop, so it must be quick. ``on_join`` refuses a
subscription by returning ``{"unauthorized": True}``; a hook that raises refuses
it too (and is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from motia._project.stream_config import StreamConfig
from motia._runtime.context import TriggerInfo
from motia._runtime.invoke import maybe_await
from motia._runtime.protocol import StepHost
from motia._runtime.tracing import new_trace_id

__all__ = ["StreamSubscription", "call_on_join", "call_on_leave"]

log = logging.getLogger("motia.streams")
_TRIGGER = TriggerInfo(type="stream")


@dataclass(frozen=True, slots=True)
class StreamSubscription:
    """One join: ``stream_name``, ``group_id``, ``item_id`` (None for a group) and the
    client-chosen ``subscription_id``; camelCase names work too."""

    stream_name: str
    group_id: str
    item_id: str | None
    subscription_id: str

    @property
    def id(self) -> str | None:
        return self.item_id

    # Motia's camelCase spellings, for hooks ported from TypeScript.
    @property
    def streamName(self) -> str:
        return self.stream_name

    @property
    def groupId(self) -> str:
        return self.group_id

    @property
    def itemId(self) -> str | None:
        return self.item_id

    @property
    def subscriptionId(self) -> str:
        return self.subscription_id

    def to_dict(self) -> dict[str, str | None]:
        return {
            "streamName": self.stream_name,
            "groupId": self.group_id,
            "id": self.item_id,
            "subscriptionId": self.subscription_id,
        }


async def call_on_join(
    runtime: StepHost, config: StreamConfig, subscription: StreamSubscription, auth: Any
) -> bool:
    """True when the subscription may go ahead."""
    if config.on_join is None:
        return True
    try:
        result = await _call(runtime, config, "on_join", subscription, auth)
    except Exception:
        log.exception("stream %r: on_join failed; subscription refused", config.name)
        return False
    return not _unauthorized(result)


async def call_on_leave(
    runtime: StepHost, config: StreamConfig, subscription: StreamSubscription, auth: Any
) -> None:
    if config.on_leave is None:
        return
    try:
        await _call(runtime, config, "on_leave", subscription, auth)
    except Exception:
        log.exception("stream %r: on_leave failed", config.name)


async def _call(
    runtime: StepHost,
    config: StreamConfig,
    hook_name: str,
    subscription: StreamSubscription,
    auth: Any,
) -> Any:
    hook = getattr(config, hook_name)
    ctx = runtime.context(f"{config.name}.{hook_name}", _TRIGGER, new_trace_id(), subscription)
    return await maybe_await(hook(subscription, ctx, auth))


def _unauthorized(result: Any) -> bool:
    if isinstance(result, Mapping):
        return bool(result.get("unauthorized"))
    return bool(getattr(result, "unauthorized", False))
