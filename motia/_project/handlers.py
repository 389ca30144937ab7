"""Calling a user handler: by its arity, async directly, sync in a worker thread.

A handler's signature is part of its step: ``caller()`` works it out once, when
the app is built, for the endpoints and the multi-trigger dispatcher.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread

__all__ = [
    "NO_INPUT",
    "Caller",
    "call_handler",
    "caller",
    "is_async",
    "positional_arity",
    "signature_problem",
]

_T = TypeVar("_T")

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


Caller = Callable[[Any, Any], Awaitable[Any]]


def caller(handler: Callable[..., Any]) -> Caller:
    """``call(input, ctx)`` for ``handler``, its arity worked out once (for hot paths).

    An async handler is called straight away, so awaiting adds no coroutine of ours.
    """
    if not is_async(handler):
        return functools.partial(call_handler, handler)
    arity = positional_arity(handler)
    if arity >= 2:
        return lambda input, ctx: handler(input, ctx)
    if arity == 1:
        return lambda input, ctx: handler(input)
    return lambda input, ctx: handler()


def _arguments(arity: int, input: Any, ctx: Any) -> tuple[Any, ...]:
    if input is NO_INPUT:
        return ((), (ctx,), (None, ctx))[min(arity, 2)]
    return ((), (input,), (input, ctx))[min(arity, 2)]


def positional_arity(handler: Callable[..., Any]) -> int:
    """How many positional arguments the handler takes (a ``*args`` counts as two)."""
    return _memo(_cached_arity, _arity, handler)


def is_async(handler: Callable[..., Any]) -> bool:
    return _memo(_cached_is_async, _is_async, handler)


def _memo(cached: Callable[[Any], _T], compute: Callable[[Any], _T], handler: Any) -> _T:
    # Bounded, since ctx.match() may get new functions on every call; callable objects
    # such as dataclass instances may be unhashable and are then inspected every time.
    try:
        return cached(handler)
    except TypeError:
        return compute(handler)


def _arity(handler: Callable[..., Any]) -> int:
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


def signature_problem(handler: Callable[..., Any]) -> str | None:
    """Why ``handler`` cannot be called as ``handler(input, ctx)`` (or with fewer), if it cannot."""
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p.name for p in parameters if p.kind in positional and p.default is p.empty]
    if len(required) > 2:
        return (
            f"`handler` requires {len(required)} arguments ({', '.join(required)}) but is called "
            "with two at most: define it as `async def handler(input, ctx)`"
        )
    keyword_only = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if keyword_only:
        return (
            f"`handler` requires the keyword argument `{keyword_only[0]}`, which is never "
            "passed: give it a default or make it positional"
        )
    return None


def _is_async(handler: Callable[..., Any]) -> bool:
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable objects
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call)


_cached_arity = functools.lru_cache(maxsize=512)(_arity)
_cached_is_async = functools.lru_cache(maxsize=512)(_is_async)
