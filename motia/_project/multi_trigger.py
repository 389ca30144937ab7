"""``multi_trigger_step(config).on_http(fn).on_queue(fn)...handlers()``."""

from __future__ import annotations

from typing import Any

from motia._project.config import StepConfig
from motia._project.handlers import Caller, caller
from motia._project.step import Handler, StepDefinition, as_step_config

__all__ = ["MultiTriggerStepBuilder", "multi_trigger_step"]

_NO_INPUT = frozenset({"cron"})


class MultiTriggerStepBuilder:
    def __init__(self, config: StepConfig | dict[str, Any]) -> None:
        self.config = as_step_config(config)
        self._handlers: dict[str, Handler] = {}

    def on_http(self, handler: Handler) -> MultiTriggerStepBuilder:
        return self._on("http", handler)

    def on_api(self, handler: Handler) -> MultiTriggerStepBuilder:
        return self._on("http", handler)

    def on_queue(self, handler: Handler) -> MultiTriggerStepBuilder:
        return self._on("queue", handler)

    def on_cron(self, handler: Handler) -> MultiTriggerStepBuilder:
        return self._on("cron", handler)

    def on_state(self, handler: Handler) -> MultiTriggerStepBuilder:
        return self._on("state", handler)

    def on_stream(self, handler: Handler) -> MultiTriggerStepBuilder:
        return self._on("stream", handler)

    def handlers(self, handlers: dict[str, Handler] | None = None) -> StepDefinition:
        for kind, handler in (handlers or {}).items():
            self._on("http" if kind == "api" else kind, handler)
        return StepDefinition(self.config, self._dispatcher())

    def _on(self, kind: str, handler: Handler) -> MultiTriggerStepBuilder:
        self._handlers[kind] = handler
        return self

    def _dispatcher(self) -> Handler:
        callers: dict[str, Caller] = {kind: caller(h) for kind, h in self._handlers.items()}

        async def dispatch(input: Any, ctx: Any) -> Any:
            kind = ctx.trigger.type
            call = callers.get(kind)
            if call is None:
                raise RuntimeError(
                    f"No handler defined for trigger type {kind!r}; "
                    f"this step has: {', '.join(callers)}"
                )
            return await call(None if kind in _NO_INPUT else input, ctx)

        return dispatch


def multi_trigger_step(config: StepConfig | dict[str, Any]) -> MultiTriggerStepBuilder:
    return MultiTriggerStepBuilder(config)
