"""Errors found while building an app, each naming the file (and line) and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BuildError", "EnqueueError", "NonRetryableError", "StepError"]


@dataclass(frozen=True, slots=True)
class StepError:
    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"

    @classmethod
    def at(cls, file: str | Path | None, message: str, line: int | None = None) -> StepError:
        return cls(_display(file), message, line)


class BuildError(Exception):
    """The app cannot be built; ``errors`` lists every problem found."""

    def __init__(self, errors: list[StepError]) -> None:
        self.errors = errors
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        lines = "\n".join(f"  - {error}" for error in errors)
        super().__init__(f"cannot build the app ({count}):\n{lines}")


def _display(file: str | Path | None) -> str:
    if file is None:
        return "<python>"
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class NonRetryableError(Exception):
    """Raised by a queue handler: the message goes to the dead-letter queue without retries."""


class EnqueueError(ValueError):
    """An ``enqueue()`` call is malformed; the message says what to change."""
