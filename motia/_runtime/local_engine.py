"""The engine client this process hands out as ``motia.iii.get_instance()``.

Motia's SDK sends every call to an iii engine process: ``state::get``, ``stream::set``,
``enqueue``..., and the functions and triggers that ``motia.runtime.Motia`` registers.
There is no engine here, so the client answers in this process:

- the engine's own function ids act on the app running the current handler (the
  same calls as ``ctx.state``, ``ctx.streams`` and ``ctx.enqueue``);
- a function registered with ``register_function`` is called directly by its id;
- a registered trigger is recorded (``triggers``) but never fires: the app serves
  the steps of its steps folder itself.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from motia._runtime.current import require_context
from motia._runtime.sync_calls import call_sync, start_in_place

__all__ = ["LocalEngine", "Registration"]

Payload = dict[str, Any]
Operation = Callable[[Any], Awaitable[Any]]
"""One call of ``ctx.state`` or of one of ``ctx.streams``, given that object."""


class Registration:
    """What registering returns: the id, and ``unregister()`` to take it back."""

    def __init__(self, id: str, unregister: Callable[[], object]) -> None:
        self.id = id
        self.unregister = unregister


class LocalEngine:
    """Motia's engine client (``trigger``, ``register_function``, ``register_trigger``)."""

    def __init__(self) -> None:
        self._functions: dict[str, Callable[[Any], Any]] = {}
        self._triggers: dict[int, Payload] = {}
        self._next_trigger = itertools.count()

    @property
    def functions(self) -> list[str]:
        """The ids of the functions registered so far."""
        return list(self._functions)

    @property
    def triggers(self) -> list[Payload]:
        """The triggers registered so far, as given (``type``, ``function_id``, ``config``)."""
        return list(self._triggers.values())

    def register_function(
        self, function: Payload | str, handler: Callable[[Any], Any]
    ) -> Registration:
        function_id = function["id"] if isinstance(function, dict) else function
        if not function_id or not str(function_id).strip():
            raise ValueError("id is required")
        if function_id in self._functions:
            raise ValueError(f"function id '{function_id}' already registered")
        if not callable(handler):
            raise TypeError(f"handler must be callable, got {type(handler).__name__}")
        self._functions[function_id] = handler
        return Registration(function_id, lambda: self._functions.pop(function_id, None))

    def register_trigger(self, trigger: Payload) -> Registration:
        for field in ("type", "function_id"):
            if not trigger.get(field):
                raise ValueError(f"a trigger needs a {field!r}")
        key = next(self._next_trigger)
        self._triggers[key] = dict(trigger)
        return Registration(trigger["function_id"], lambda: self._triggers.pop(key, None))

    def trigger(self, request: Payload) -> Any:
        """Call ``request["function_id"]`` with ``request["payload"]`` and wait for its result."""
        function_id, payload = _parts(request)
        built_in = _BUILT_IN.get(function_id)
        if built_in is not None:
            return built_in.call_sync(function_id, payload)
        if function_id == "enqueue":
            ctx = require_context("enqueue()")
            start_in_place(ctx.enqueue(payload), f"enqueue to {payload.get('topic')!r}")
            return None
        return self._call_registered(function_id, payload)

    def trigger_async(self, request: Payload) -> Awaitable[Any]:
        """``trigger`` for a caller on an event loop: the call to await."""
        function_id, payload = _parts(request)
        built_in = _BUILT_IN.get(function_id)
        if built_in is not None:
            return built_in.call_async(function_id, payload)
        if function_id == "enqueue":
            return require_context("enqueue()").enqueue(payload)
        return _result_of(self._registered(function_id), payload)

    def shutdown(self) -> None:
        """Forget every registration (there is no connection to close)."""
        self._functions.clear()
        self._triggers.clear()

    def _registered(self, function_id: str) -> Callable[[Any], Any]:
        handler = self._functions.get(function_id)
        if handler is None:
            raise LookupError(f"function_not_found: no function {function_id!r} is registered")
        return handler

    def _call_registered(self, function_id: str, payload: Any) -> Any:
        handler = self._registered(function_id)
        result = handler(payload)
        if not inspect.isawaitable(result):
            return result
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_awaited(result))
        if inspect.iscoroutine(result):
            result.close()
        raise RuntimeError(
            f"trigger({function_id!r}) would block the running event loop on an async "
            "function: await get_instance().trigger_async(...) instead"
        )


def _parts(request: Payload) -> tuple[str, Any]:
    function_id = request.get("function_id")
    if not function_id:
        raise ValueError("a trigger request needs a 'function_id'")
    return function_id, request.get("payload")


async def _awaited(work: Awaitable[Any]) -> Any:
    return await work


async def _result_of(handler: Callable[[Any], Any], payload: Any) -> Any:
    result = handler(payload)
    return await result if inspect.isawaitable(result) else result


class _AppCall:
    """An engine function id answered by the running handler's app."""

    def __init__(
        self, target: Callable[[Any, Payload], Any], operation: Callable[[Payload], Operation]
    ):
        self._target = target
        self._operation = operation

    def call_sync(self, function_id: str, payload: Payload) -> Any:
        ctx = require_context(function_id)
        target = self._target(ctx, payload)
        return call_sync(target, self._operation(payload), ctx.sync_call_timeout)

    def call_async(self, function_id: str, payload: Payload) -> Awaitable[Any]:
        ctx = require_context(function_id)
        return self._operation(payload)(self._target(ctx, payload))


def _state(ctx: Any, payload: Payload) -> Any:
    if ctx.state is None:
        raise RuntimeError("this context belongs to no app, so it has no state")
    return ctx.state


def _stream(ctx: Any, payload: Payload) -> Any:
    return ctx.streams.named(payload["stream_name"])


async def _nothing(work: Awaitable[Any]) -> None:
    await work


async def _old_value(deleting: Awaitable[Any]) -> Payload:
    return {"old_value": await deleting}


_BUILT_IN: dict[str, _AppCall] = {
    "state::get": _AppCall(_state, lambda p: lambda s: s.get(p["scope"], p["key"])),
    "state::set": _AppCall(_state, lambda p: lambda s: s.set(p["scope"], p["key"], p["value"])),
    "state::update": _AppCall(_state, lambda p: lambda s: s.update(p["scope"], p["key"], p["ops"])),
    "state::delete": _AppCall(
        _state, lambda p: lambda s: _old_value(s.delete(p["scope"], p["key"]))
    ),
    "state::list": _AppCall(_state, lambda p: lambda s: s.list(p["scope"])),
    "state::list_groups": _AppCall(_state, lambda p: lambda s: s.list_groups()),
    "state::clear": _AppCall(_state, lambda p: lambda s: s.clear(p["scope"])),
    "stream::get": _AppCall(_stream, lambda p: lambda s: s.get(p["group_id"], p["item_id"])),
    "stream::set": _AppCall(
        _stream, lambda p: lambda s: s.set_values(p["group_id"], p["item_id"], p["data"])
    ),
    "stream::update": _AppCall(
        _stream, lambda p: lambda s: s.update_values(p["group_id"], p["item_id"], p["ops"])
    ),
    "stream::delete": _AppCall(
        _stream, lambda p: lambda s: _nothing(s.delete(p["group_id"], p["item_id"]))
    ),
    "stream::list": _AppCall(_stream, lambda p: lambda s: s.get_group(p["group_id"])),
    "stream::list_groups": _AppCall(_stream, lambda p: lambda s: s.list_groups()),
}
