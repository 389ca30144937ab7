"""Step logging: ``ctx.logger`` lines carry the trace id and the step name.

Records go through the stdlib ``logging`` tree under ``motia.steps``, so any
handler a user installs sees them; ``configure_logging`` sets up readable
lines for development or one JSON object per line for machines.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal

from motia._core.json import dumps_lenient
from motia._core.spans import current_ids

__all__ = ["JsonFormatter", "PrettyFormatter", "StepLogger", "configure_logging"]

STEP_LOG = logging.getLogger("motia.steps")


class StepLogger:
    """Motia's logger: ``info/warn/warning/error/debug(message, data=None)``."""

    __slots__ = ("_extra",)

    def __init__(self, step: str | None = None, trace_id: str | None = None) -> None:
        self._extra = {"step": step, "trace_id": trace_id}

    def debug(self, message: str, data: Any = None) -> None:
        self._log(logging.DEBUG, message, data)

    def info(self, message: str, data: Any = None) -> None:
        self._log(logging.INFO, message, data)

    def warning(self, message: str, data: Any = None) -> None:
        self._log(logging.WARNING, message, data)

    warn = warning

    def error(self, message: str, data: Any = None) -> None:
        self._log(logging.ERROR, message, data)

    def exception(self, message: str, data: Any = None) -> None:
        if STEP_LOG.isEnabledFor(logging.ERROR):
            STEP_LOG.error(message, extra={**self._extra, "data": data}, exc_info=True)

    def _log(self, level: int, message: str, data: Any) -> None:
        if STEP_LOG.isEnabledFor(level):
            STEP_LOG.log(level, message, extra={**self._extra, "data": data})


class PrettyFormatter(logging.Formatter):
    """``12:00:01 INFO  [CreateTodo] 3f2a9c1e message {"data": ...}``"""

    def format(self, record: logging.LogRecord) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        parts = [clock, f"{record.levelname:<5}"]
        step = getattr(record, "step", None)
        if step:
            parts.append(f"[{step}]")
        trace = getattr(record, "trace_id", None)
        if trace:
            parts.append(trace[:8])
        parts.append(record.getMessage())
        data = getattr(record, "data", None)
        if data is not None:
            parts.append(dumps_lenient(data))
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("step", "trace_id", "data"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        ids = current_ids()
        if ids is not None:
            entry.setdefault("trace_id", ids[0])
            entry["span_id"] = ids[1]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return dumps_lenient(entry)


def configure_logging(fmt: Literal["pretty", "json"] = "pretty", level: str = "INFO") -> None:
    """One stderr handler for the ``motia`` and uvicorn server logs (replacing an earlier one)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else PrettyFormatter())
    handler._motia = True  # type: ignore[attr-defined]
    for name in ("motia", "uvicorn.error"):
        target = logging.getLogger(name)
        for old in list(target.handlers):
            if getattr(old, "_motia", False):
                target.removeHandler(old)
        target.addHandler(handler)
        target.setLevel(level.upper())
        target.propagate = False
