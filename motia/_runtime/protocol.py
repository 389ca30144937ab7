"""``StepHost``: what running a step needs from the runtime, as a protocol.

The code that fires a step (HTTP endpoints, queue workers, cron jobs, state and stream
triggers, stream hooks) asks its host for the settings and for a fresh context per
firing. The app's ``Runtime`` is one host; the test kit's ``FakeRuntime`` is another,
answering every firing with the ``FakeContext`` a test gave it. Typing against the
protocol keeps the fake honest: if the runners need more, mypy says where.
"""

from __future__ import annotations

from typing import Any, Protocol

from motia._project.triggers import TriggerInfo
from motia._runtime.context import FlowContext
from motia.settings import Settings

__all__ = ["StepHost"]


class StepHost(Protocol):
    """The settings, and a context for each firing of a step."""

    settings: Settings

    def context(
        self, step_name: str, trigger: TriggerInfo, trace_id: str, input: Any
    ) -> FlowContext[Any]:
        """The ``ctx`` for one firing; ``input`` is what the handler receives."""
        ...
