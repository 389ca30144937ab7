"""``FlowContext``: what a handler gets besides its input, and ``TriggerInfo``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from motia.invoke import NO_INPUT, call_handler
from motia.logs import StepLogger

__all__ = ["FlowContext", "TriggerInfo"]

T = TypeVar("T")
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


class FlowContext(Generic[T]):
    __slots__ = ("enqueue", "input_value", "logger", "state", "streams", "trace_id", "trigger")

    def __init__(
        self,
        *,
        trace_id: str,
        trigger: TriggerInfo,
        logger: StepLogger,
        enqueue: Callable[[Any], Awaitable[None]],
        state: Any = None,
        streams: Any = None,
        input_value: Any = None,
    ) -> None:
        self.trace_id = trace_id
        self.trigger = trigger
        self.logger = logger
        self.enqueue = enqueue
        self.state = state
        self.streams = streams
        self.input_value = input_value

    def is_http(self) -> bool:
        return self.trigger.type == "http"

    is_api = is_http

    def is_queue(self) -> bool:
        return self.trigger.type == "queue"

    def is_cron(self) -> bool:
        return self.trigger.type == "cron"

    def is_state(self) -> bool:
        return self.trigger.type == "state"

    def is_stream(self) -> bool:
        return self.trigger.type == "stream"

    def get_data(self) -> Any:
        """The payload whatever the trigger: the HTTP body, the queue data, None for cron."""
        if self.is_cron():
            return None
        request = getattr(self.input_value, "request", None)
        if request is not None:
            return request.body
        return self.input_value

    async def match(self, handlers: dict[str, Callable[..., Any]]) -> Any:
        """Run the handler registered for the trigger that fired (``default`` otherwise)."""
        kind = self.trigger.type
        handler = handlers.get(kind) or (handlers.get("api") if kind == "http" else None)
        handler = handler or handlers.get("default")
        if handler is None:
            known = ", ".join(k for k in handlers if k != "default") or "none"
            raise RuntimeError(f"no handler matched trigger type {kind!r}; handlers: {known}")
        input = NO_INPUT if kind == "cron" else self.input_value
        return await call_handler(handler, input, self)
