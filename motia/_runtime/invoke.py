"""Calling user hooks and trigger conditions, which may be sync or async."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from motia._project.handlers import NO_INPUT

__all__ = ["condition_met", "maybe_await"]


async def maybe_await(value: Any) -> Any:
    """``value``, awaited first when it is awaitable (user hooks may be sync or async)."""
    return await value if inspect.isawaitable(value) else value


async def condition_met(condition: Callable[..., Any] | None, input: Any, ctx: Any) -> bool:
    """A trigger's ``condition(input, ctx)``, sync or async; no condition always passes."""
    if condition is None:
        return True
    return bool(await maybe_await(condition(None if input is NO_INPUT else input, ctx)))
