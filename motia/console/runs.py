"""Step runs by trace id: which steps a request went through, how long each took, how it ended.

``record_runs`` wraps each step's handler (only when the console is on, so
the request path of an app without the console is untouched). The wrapper
reads the running handler's context, the same one ``ctx`` is, for the trace
id and the trigger, and reports a start and an end to the ``RunRecorder``,
which keeps the most recent traces in a bounded map.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from motia._core.json import dumps_lenient
from motia._project.handlers import is_async
from motia._project.step import Step
from motia._runtime.current import current_context
from motia.console.events import LiveView
from motia.sse import encode_event

__all__ = ["Run", "RunRecorder", "record_runs", "summarize"]

MAX_TRACES = 500
MAX_RUNS_PER_TRACE = 200
_SUMMARY_LIMIT = 400
_WRAPPED = "__motia_console_runs__"


@dataclass(slots=True)
class Run:
    id: int
    step: str
    trace_id: str
    trigger: dict[str, Any]
    started: float
    duration_ms: float | None = None
    status: str = "running"
    result: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step,
            "trace_id": self.trace_id,
            "trigger": self.trigger,
            "started": self.started,
            "duration_ms": self.duration_ms,
            "status": self.status,
            "result": self.result,
            "error": self.error,
        }


class RunRecorder:
    """The runs of the most recent traces; each start and end is also published live."""

    def __init__(self, view: LiveView, max_traces: int = MAX_TRACES) -> None:
        self.view = view
        self.max_traces = max_traces
        self.traces: OrderedDict[str, list[Run]] = OrderedDict()
        self._ids = itertools.count(1)
        # Sync handlers run in worker threads: the map is shared with the event loop.
        self._lock = threading.Lock()

    def start(self, step: str, trace_id: str, trigger: dict[str, Any]) -> Run:
        run = Run(next(self._ids), step, trace_id, trigger, time.time())
        with self._lock:
            runs = self.traces.pop(trace_id, [])
            if len(runs) < MAX_RUNS_PER_TRACE:
                runs.append(run)
            self.traces[trace_id] = runs
            while len(self.traces) > self.max_traces:
                self.traces.popitem(last=False)
        self._publish(run)
        return run

    def end(self, run: Run, status: str, result: str | None, error: str | None) -> None:
        run.duration_ms = round((time.time() - run.started) * 1000, 2)
        run.status, run.result, run.error = status, result, error
        self._publish(run)

    def runs(self, trace_id: str) -> list[Run]:
        with self._lock:
            return list(self.traces.get(trace_id, ()))

    def all_runs(self) -> list[Run]:
        with self._lock:
            return [run for runs in self.traces.values() for run in runs]

    def _publish(self, run: Run) -> None:
        self.view.publish(encode_event(dumps_lenient(run.as_dict()), event="run"))


def summarize(result: Any) -> str | None:
    """A short text for what a handler returned (``None`` when it returned nothing)."""
    if result is None:
        return None
    status = getattr(result, "status", None)
    if isinstance(result, dict):
        status = result.get("status", result.get("status_code"))
    text = dumps_lenient(result)
    if len(text) > _SUMMARY_LIMIT:
        text = text[: _SUMMARY_LIMIT - 1] + "…"
    return f"{status} {text}" if isinstance(status, int) and not isinstance(status, bool) else text


def record_runs(steps: list[Step], recorder: RunRecorder) -> None:
    """Wrap every step's handler so each run is recorded (idempotent)."""
    for step in steps:
        if not getattr(step.handler, _WRAPPED, False):
            step.handler = _wrap(step.name, step.handler, recorder)


def _wrap(name: str, handler: Callable[..., Any], recorder: RunRecorder) -> Callable[..., Any]:
    if is_async(handler):

        @functools.wraps(handler)
        async def run_async(*args: Any) -> Any:
            run = _start(recorder, name)
            try:
                result = await handler(*args)
            except BaseException as exc:
                _failed(recorder, run, exc)
                raise
            recorder.end(run, "ok", summarize(result), None)
            return result

        setattr(run_async, _WRAPPED, True)
        return run_async

    @functools.wraps(handler)
    def run_sync(*args: Any) -> Any:
        run = _start(recorder, name)
        try:
            result = handler(*args)
        except BaseException as exc:
            _failed(recorder, run, exc)
            raise
        if inspect.isawaitable(result):
            return _finish_later(recorder, run, result)
        recorder.end(run, "ok", summarize(result), None)
        return result

    setattr(run_sync, _WRAPPED, True)
    return run_sync


async def _finish_later(recorder: RunRecorder, run: Run, awaitable: Any) -> Any:
    try:
        result = await awaitable
    except BaseException as exc:
        _failed(recorder, run, exc)
        raise
    recorder.end(run, "ok", summarize(result), None)
    return result


def _start(recorder: RunRecorder, name: str) -> Run:
    ctx = current_context.get()
    trace_id = getattr(ctx, "trace_id", None) or "-"
    trigger = getattr(ctx, "trigger", None)
    info = trigger.model_dump(exclude_none=True) if trigger is not None else {}
    return recorder.start(name, trace_id, info)


def _failed(recorder: RunRecorder, run: Run, exc: BaseException) -> None:
    if isinstance(exc, Exception):
        recorder.end(run, "error", None, f"{type(exc).__name__}: {exc}")
    else:
        recorder.end(run, "cancelled", None, type(exc).__name__)
