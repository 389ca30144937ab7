"""Step logging: ``ctx.logger`` lines carry the trace id and the step name.

Records go through the stdlib ``logging`` tree under ``motia.steps``, so any
handler a user installs sees them; ``configure_logging`` sets up readable
lines for development or one JSON object per line for machines. Both formats
redact tokens and credentials (``redaction``); the readable one also escapes
control characters, so a logged value cannot start a line of its own or drive
the terminal.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any, Literal

from motia._core.json import dumps_lenient
from motia._core.spans import current_ids
from motia._runtime.redaction import redact

__all__ = [
    "JsonFormatter",
    "PrettyFormatter",
    "StepLogger",
    "configure_logging",
    "escape_control",
]

STEP_LOG = logging.getLogger("motia.steps")
SERVER_LOGGERS = ("motia", "uvicorn.error", "websockets")
# Record attributes both formats show when set (``http``: an access line's fields).
EXTRAS = ("step", "trace_id", "data", "http")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def escape_control(text: str) -> str:
    """``text`` on one line: CR, LF, ESC and other control characters written as escapes."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


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
        parts.append(escape_control(record.getMessage()))
        data = getattr(record, "data", None)
        if data is not None:
            parts.append(escape_control(dumps_lenient(data)))
        line = " ".join(parts)
        if record.exc_info:
            trace = self.formatException(record.exc_info).split("\n")
            line += "\n" + "\n".join(escape_control(part) for part in trace)
        return redact(line)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in EXTRAS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        ids = current_ids()
        if ids is not None:
            entry.setdefault("trace_id", ids[0])
            entry["span_id"] = ids[1]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(dumps_lenient(entry))


def configure_logging(fmt: Literal["pretty", "json"] = "pretty", level: str = "INFO") -> None:
    """One stderr handler for the ``motia``, uvicorn and WebSocket handshake logs (replacing
    an earlier one); uvicorn's own access log is replaced by ``motia.access``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else PrettyFormatter())
    handler._motia = True  # type: ignore[attr-defined]
    for name in SERVER_LOGGERS:
        target = logging.getLogger(name)
        for old in list(target.handlers):
            if getattr(old, "_motia", False):
                target.removeHandler(old)
        target.addHandler(handler)
        target.setLevel(level.upper())
        target.propagate = False
