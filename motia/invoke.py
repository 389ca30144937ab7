"""Calling a user handler: by its arity, async directly, sync in a worker thread."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread

__all__ = ["NO_INPUT", "call_handler", "is_async", "positional_arity"]

NO_INPUT: Any = object()
"""Input of triggers that carry none (cron): the handler may take ``()`` or ``(ctx)``."""


async def call_handler(handler: Callable[..., Any], input: Any, ctx: Any) -> Any:
    args = _arguments(positional_arity(handler), input, ctx)
    if is_async(handler):
        return await handler(*args)
    result = await anyio.to_thread.run_sync(functools.partial(handler, *args))
    if inspect.isawaitable(result):
        return await result
    return result


def _arguments(arity: int, input: Any, ctx: Any) -> tuple[Any, ...]:
    if input is NO_INPUT:
        return ((), (ctx,), (None, ctx))[min(arity, 2)]
    return ((), (input,), (input, ctx))[min(arity, 2)]


@functools.cache
def positional_arity(handler: Callable[..., Any]) -> int:
    """How many positional arguments the handler takes (a ``*args`` counts as two)."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return 2
    count = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return 2
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


@functools.cache
def is_async(handler: Callable[..., Any]) -> bool:
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)
