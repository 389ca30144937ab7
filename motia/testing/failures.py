"""``fail``: end a test with a readable message (``pytest.fail`` when pytest is there)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

__all__ = ["describe", "fail"]


def fail(message: str) -> NoReturn:
    try:
        import pytest
    except ImportError:  # the kit also works outside pytest
        raise AssertionError(message) from None
    pytest.fail(message)


def describe(received: Iterable[Any], limit: int = 10) -> str:
    """What arrived so far, one item per line (the last ``limit`` of them)."""
    items = list(received)
    if not items:
        return "nothing"
    shown = items[-limit:]
    skipped = f"\n  ... {len(items) - limit} earlier" if len(items) > limit else ""
    return f"{len(items)}:{skipped}" + "".join(f"\n  {item!r}" for item in shown)
