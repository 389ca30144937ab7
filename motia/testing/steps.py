"""Finding the step a unit test means: a ``Step``, a definition, a module, a file or a function."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from motia._project.config import parse_step_config
from motia._project.loader import LoadResult, load_step_file
from motia._project.step import Step, StepDefinition
from motia._project.triggers import Trigger
from motia.exceptions import BuildError

__all__ = ["StepLike", "load_step", "resolve_step", "triggers_of"]

StepLike = Step | StepDefinition | ModuleType | str | Path | Any
"""What the ``run_*`` helpers accept; a bare function is a handler without triggers."""


def load_step(path: str | Path) -> Step:
    """Import one step file (``*.step.py`` files are not importable by name)."""
    result = LoadResult()
    load_step_file(Path(path).resolve(), result)
    if result.errors:
        raise BuildError(result.errors)
    return result.steps[0]


def resolve_step(value: StepLike, fallback: Trigger) -> Step:
    """A ``Step``; a bare handler gets ``fallback`` as its only trigger."""
    if isinstance(value, Step):
        return value
    if isinstance(value, str | Path):
        return load_step(value)
    if isinstance(value, ModuleType):
        value = StepDefinition(_attribute(value, "config"), _attribute(value, "handler"))
    if isinstance(value, StepDefinition):
        return Step(parse_step_config(value.config), value.handler)
    if callable(value):
        name = getattr(value, "__name__", "handler")
        return Step(parse_step_config({"name": name, "triggers": [fallback]}), value)
    raise TypeError(
        f"expected a step (Step, step(...), a step module or file) or a handler, "
        f"got {type(value).__name__}"
    )


def _attribute(module: ModuleType, name: str) -> Any:
    try:
        return getattr(module, name)
    except AttributeError:
        raise TypeError(f"module {module.__name__} has no `{name}`; is it a step file?") from None


def triggers_of(step: Step, kind: type[Any]) -> list[tuple[int, Any]]:
    return [(i, t) for i, t in enumerate(step.config.triggers) if isinstance(t, kind)]
