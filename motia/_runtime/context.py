"""``FlowContext``: what a handler gets besides its input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import CoroutineType
from typing import Any, Generic, TypeVar, cast

from motia._project.handlers import NO_INPUT, call_handler
from motia._project.triggers import TriggerInfo
from motia._runtime.logs import StepLogger
from motia._runtime.state import StateManager
from motia._runtime.streams import Streams
from motia._runtime.unawaited import Call

__all__ = ["FlowContext"]

T = TypeVar("T")
Enqueuer = Callable[[Any, "FlowContext[Any]"], Awaitable[Any]]
"""Sends ``event`` on behalf of a context (which tells the step name and the trace id)."""


class FlowContext(Generic[T]):
    """A handler's context. Motia's ``FlowContext(trace_id=..., trigger=...)`` also works:
    such a context, outside an app, has no state or streams and cannot enqueue.
    """

    __slots__ = (
        "_enqueuer", "_logger", "input_value", "state", "step_name", "streams",
        "sync_call_timeout", "trace_id", "trigger",
    )  # fmt: skip

    def __init__(
        self,
        *,
        trace_id: str,
        trigger: TriggerInfo,
        enqueuer: Enqueuer | None = None,
        state: StateManager | None = None,
        streams: Streams | None = None,
        step_name: str | None = None,
        logger: StepLogger | None = None,
        input_value: Any = None,
        enqueue: Callable[[Any], Awaitable[Any]] | None = None,
        sync_call_timeout: float = 30.0,
    ) -> None:
        self.trace_id = trace_id
        self.trigger = trigger
        self.step_name = step_name
        self._logger = logger
        self._enqueuer = enqueuer or _enqueuer_of(enqueue)
        # Without an app there is no state (None); typed for the handlers that have one.
        self.state = cast(StateManager, state)
        self.streams = Streams() if streams is None else streams
        self.input_value = input_value
        self.sync_call_timeout = sync_call_timeout

    @property
    def logger(self) -> StepLogger:
        """Lines carrying the step name and the trace id (made on first use)."""
        if self._logger is None:
            self._logger = StepLogger(self.step_name, self.trace_id)
        return self._logger

    def enqueue(self, event: Any) -> Awaitable[Any]:
        """Send ``{"topic", "data", "messageGroupId"?}``; awaiting gives the message id."""
        sending = self._enqueuer(event, self)
        # A coroutine nobody awaits would send nothing: the Call reports it (another
        # awaitable, such as a future, is the caller's own).
        return Call(sending, "ctx.enqueue") if isinstance(sending, CoroutineType) else sending

    emit = enqueue
    """Motia 0.x's name for ``enqueue``."""

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


def _enqueuer_of(enqueue: Callable[[Any], Awaitable[Any]] | None) -> Enqueuer:
    if enqueue is not None:
        return lambda event, ctx: enqueue(event)
    return _no_enqueue


def _no_enqueue(event: Any, ctx: FlowContext[Any]) -> Awaitable[Any]:
    raise RuntimeError(
        "this FlowContext belongs to no app, so it cannot enqueue; pass enqueue= "
        "(or use motia.testing's fake context) to test a handler alone"
    )
