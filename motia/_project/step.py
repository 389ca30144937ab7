"""A step: a validated config plus its handler, and the ``step()`` builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from motia._project.config import StepConfig

__all__ = ["Handler", "Step", "StepBuilder", "StepDefinition", "step"]

Handler = Callable[..., Any]


@dataclass(slots=True)
class StepDefinition:
    """What a step file declares: a config (dict or ``StepConfig``) and a handler."""

    config: StepConfig | dict[str, Any]
    handler: Any


@dataclass(slots=True)
class Step:
    """A step as the runtime serves it."""

    config: StepConfig
    handler: Handler
    file_path: str | None = None

    @property
    def name(self) -> str:
        return self.config.name


class StepBuilder:
    """``step(config).handle(fn)``: attach the handler later."""

    def __init__(self, config: StepConfig | dict[str, Any]) -> None:
        self.config = config

    def handle(self, handler: Handler) -> StepDefinition:
        return StepDefinition(self.config, handler)


def step(config: StepConfig | dict[str, Any], handler: Handler | None = None) -> Any:
    """``step(config, handler)`` is a definition; ``step(config)`` a builder."""
    if handler is None:
        return StepBuilder(config)
    return StepDefinition(config, handler)
