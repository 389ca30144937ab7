"""A step: a validated config plus its handler, and the ``step()`` builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from motia._project.config import StepConfig, parse_step_config
from motia.exceptions import ConfigError

__all__ = ["Handler", "Step", "StepBuilder", "StepDefinition", "as_step_config", "step"]

Handler = Callable[..., Any]


@dataclass(slots=True)
class StepDefinition:
    """What a step file declares: a config (dict or ``StepConfig``) and a handler."""

    config: StepConfig | dict[str, Any]
    handler: Any


@dataclass(slots=True)
class Step:
    """A step as the runtime serves it (Motia's ``Step(file_path=, config=)`` has no handler)."""

    config: StepConfig
    handler: Handler = field(default_factory=lambda: _no_handler)
    file_path: str | None = None

    @property
    def name(self) -> str:
        return self.config.name


def _no_handler(*args: Any) -> Any:
    raise RuntimeError("this Step was declared without a handler: Step(config, handler)")


class StepBuilder:
    """``step(config).handle(fn)``: attach the handler later."""

    def __init__(self, config: StepConfig | dict[str, Any]) -> None:
        self.config = config

    def handle(self, handler: Handler) -> StepDefinition:
        return StepDefinition(self.config, handler)


def step(config: StepConfig | dict[str, Any], handler: Handler | None = None) -> Any:
    """``step(config, handler)`` is a definition; ``step(config)`` a builder.

    A dict config becomes a ``StepConfig`` here, as in Motia's SDK; one that does not
    check out is kept as it is, for the loader to report with its file.
    """
    config = as_step_config(config)
    if handler is None:
        return StepBuilder(config)
    return StepDefinition(config, handler)


def as_step_config(config: StepConfig | dict[str, Any]) -> StepConfig | dict[str, Any]:
    if not isinstance(config, dict):
        return config
    try:
        return parse_step_config(config)
    except ConfigError:
        return config
