"""Every error class motia defines, in one tree under ``MotiaError``.

``except motia.MotiaError`` catches every error below; a wrong argument to an API
(a stream event without ``type``, a bad ``StreamConfig``) still raises a plain
``TypeError`` or ``ValueError``. Each class keeps the builtin base it had before the
tree existed (``EnqueueError`` is still a ``ValueError``, ``UpdateConflict`` a
``RuntimeError``...), so code that catches the builtin keeps working.

The hierarchy, grouped by who meets each error::

    MotiaError
    │   building and serving the app (the message names the file and the fix)
    ├── BuildError
    ├── ConfigError (ValueError)
    ├── InvalidCronExpression (ValueError)
    ├── ServeError
    ├── ProjectExistsError (FileExistsError)
    │   inside a handler: writes, enqueues, responses
    ├── SchemaValidationError (ValueError)
    ├── EnqueueError (ValueError)
    ├── InvalidUpdateOp (ValueError)
    ├── UnstorableValue (ValueError)
    ├── UpdateConflict (RuntimeError)
    ├── StoreUnavailable (ConnectionError)
    ├── UnencodableBody (ValueError)
    ├── ResponseStartedError (RuntimeError)
    │   raised by user code for the runtime to act on
    ├── NonRetryableError
    ├── StreamAuthError
    │   a client's bad input (answered with a 4xx or an error event) or departure
    ├── RequestRefused
    │   └── QueueFull
    ├── MalformedJSON (ValueError)
    ├── ClientGone
    ├── FrameError (ValueError)
    │   the test kit's stream client
    ├── JoinRefused
    └── StreamClosed (ConnectionError)

``StepError`` and ``FieldError`` are not exceptions: they are the records that
``BuildError.errors`` and ``SchemaValidationError.errors`` list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BuildError",
    "ClientGone",
    "ConfigError",
    "EnqueueError",
    "FieldError",
    "FrameError",
    "InvalidCronExpression",
    "InvalidUpdateOp",
    "JoinRefused",
    "MalformedJSON",
    "MotiaError",
    "NonRetryableError",
    "ProjectExistsError",
    "QueueFull",
    "RequestRefused",
    "ResponseStartedError",
    "SchemaValidationError",
    "ServeError",
    "StepError",
    "StoreUnavailable",
    "StreamAuthError",
    "StreamClosed",
    "UnencodableBody",
    "UnstorableValue",
    "UpdateConflict",
]


class MotiaError(Exception):
    """The base of every error Motia raises on purpose."""


# --- building and serving the app ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepError:
    """One problem found while building the app, with the file (and line) it is in."""

    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"

    @classmethod
    def at(cls, file: str | Path | None, message: str, line: int | None = None) -> StepError:
        return cls(_display(file), message, line)


def _display(file: str | Path | None) -> str:
    if file is None:
        return "<python>"
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class BuildError(MotiaError):
    """The app cannot be built; ``errors`` lists every problem found."""

    def __init__(self, errors: list[StepError]) -> None:
        self.errors = errors
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        lines = "\n".join(f"  - {error}" for error in errors)
        super().__init__(f"cannot build the app ({count}):\n{lines}")


class ConfigError(MotiaError, ValueError):
    """A config is not of the expected shape; the message says what to change."""


class InvalidCronExpression(MotiaError, ValueError):
    """A cron expression without 5 or 6 valid fields."""


class ServeError(MotiaError):
    """Serving options that cannot work together; the message says how to fix them."""


class ProjectExistsError(MotiaError, FileExistsError):
    """``motia create`` was pointed at a folder that already holds files."""


# --- inside a handler ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field that failed validation; ``path`` is dotted, empty for the root."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class SchemaValidationError(MotiaError, ValueError):
    """Data does not match a step's or a stream's schema; ``errors`` lists every field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.path or '<root>'}: {e.message}" for e in errors))

    def as_list(self) -> list[dict[str, str]]:
        return [error.as_dict() for error in self.errors]


class EnqueueError(MotiaError, ValueError):
    """An ``enqueue()`` call is malformed; the message says what to change."""


class InvalidUpdateOp(MotiaError, ValueError):
    """An update op is malformed or cannot apply to the current value."""


class UnstorableValue(MotiaError, ValueError):
    """A value (or a part of it, named by ``path``) is not representable as JSON."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"value at {path} cannot be stored as JSON: {reason}")


class UpdateConflict(MotiaError, RuntimeError):
    """An update lost its compare-and-set to other writers too many times in a row."""


class StoreUnavailable(MotiaError, ConnectionError):
    """The shared store (Redis) cannot be reached right now; try again later."""


class UnencodableBody(MotiaError, ValueError):
    """A returned body that is not JSON (``NaN``, an unknown type): the handler failed."""


class ResponseStartedError(MotiaError, RuntimeError):
    """Status or headers changed after the first body byte was written."""


# --- raised by user code ------------------------------------------------------------------


class NonRetryableError(MotiaError):
    """Raised by a queue handler: the message goes to the dead-letter queue without retries."""


class StreamAuthError(MotiaError):
    """Raise from a ``stream_auth`` hook to refuse a stream connection."""


# --- a client's bad input or departure ----------------------------------------------------


class RequestRefused(MotiaError):
    """The runtime answers this request itself, with ``error`` as a JSON body (4xx, 503)."""

    def __init__(
        self, status: int, error: dict[str, Any], *, close: bool = False, limit: str | None = None
    ) -> None:
        self.status = status
        self.error = error
        self.close = close
        """Close the connection too: the rest of the body is not worth reading."""
        self.limit = limit
        """The ``Settings`` field the request passed, if it passed one (logged, counted)."""
        super().__init__(error["error"])


class QueueFull(RequestRefused):
    """An enqueue refused because its topic's queue passed ``max_queue_depth`` or
    ``max_queue_lag``: an HTTP step answers 503 with ``Retry-After``, a queue step retries."""

    def __init__(self, topic: str, error: dict[str, Any], *, limit: str, retry_after: int) -> None:
        super().__init__(503, error, limit=limit)
        self.args = (f'{error["error"]} (topic "{topic}", {limit}={error["limit"]})',)
        self.topic = topic
        self.retry_after = retry_after
        """Seconds after which the queue is expected to take messages again."""


class MalformedJSON(MotiaError, ValueError):
    """The bytes given to ``validate_json`` are not JSON."""


class ClientGone(MotiaError):
    """The client disconnected before sending the whole body."""


class FrameError(MotiaError, ValueError):
    """A frame that is not JSON, has the wrong shape or an unknown type."""

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.data = data or {}


# --- the test kit's stream client ---------------------------------------------------------


class JoinRefused(MotiaError):
    """The server refused a join (``STREAM_ACCESS_DENIED``, ``STREAM_NOT_FOUND``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class StreamClosed(MotiaError, ConnectionError):
    """The server closed the socket; ``code`` and ``reason`` say why."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"the server closed the stream socket ({code}) {reason}".rstrip())
        self.code = code
        self.reason = reason
