"""Writes that nobody awaits: reported in the log, naming the step and the line.

``ctx.state.set(...)`` without ``await`` builds a coroutine that never runs, so
nothing is written; Python only says so with a ``RuntimeWarning`` outside the
log format, if at all. Every write on ``ctx`` (state, streams, enqueue) returns a
``Call`` instead: it behaves as the coroutine does (``await``, ``asyncio.gather``,
``create_task``), and when it is dropped unstarted it logs an error in the
step's log, at the line that dropped it, and closes the coroutine quietly.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Coroutine, Generator
from pathlib import Path
from typing import Any, TypeVar

from motia._runtime.logs import STEP_LOG

__all__ = ["Call"]

T = TypeVar("T")


class Call(Coroutine[Any, Any, T]):
    """A coroutine that reports itself when dropped without being awaited."""

    __slots__ = ("_coroutine", "_started", "_what")

    def __init__(self, coroutine: Coroutine[Any, Any, T], what: str) -> None:
        self._coroutine = coroutine
        self._what = what
        self._started = False

    def __await__(self) -> Generator[Any, None, T]:
        self._started = True
        return self._coroutine.__await__()

    def send(self, value: Any) -> Any:
        self._started = True
        return self._coroutine.send(value)

    def throw(self, *args: Any) -> Any:
        self._started = True
        return self._coroutine.throw(*args)

    def close(self) -> None:
        self._started = True
        self._coroutine.close()

    def __repr__(self) -> str:
        return f"<{self._what}(...) call>"

    def __del__(self) -> None:
        if self._started:
            return
        self._coroutine.close()  # never started: closing it runs nothing and warns nothing
        try:
            frame = sys._getframe(1)
        except ValueError:  # dropped by the interpreter itself, with no Python frame running
            return
        _report(self._what, frame)


def _report(what: str, frame: Any) -> None:
    from motia._runtime.current import current_context  # that module builds on this one

    ctx = current_context.get()
    where = f"{_shown(frame.f_code.co_filename)}:{frame.f_lineno}"
    STEP_LOG.log(
        logging.ERROR,
        "%s(...) was never awaited (%s), so it did nothing: write `await %s(...)`",
        what,
        where,
        what,
        extra={
            "step": getattr(ctx, "step_name", None),
            "trace_id": getattr(ctx, "trace_id", None),
            "data": None,
        },
    )


def _shown(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename
