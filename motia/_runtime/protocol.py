"""``StepHost``: what running a step needs from the runtime, as a protocol.

The code that fires a step (HTTP endpoints, queue workers, cron jobs, state and stream
triggers, stream hooks) asks its host for the settings and for a fresh context per
firing. The app's ``Runtime`` is one host; the test kit's ``FakeRuntime`` is another,
answering every firing with the ``FakeContext`` a test gave it. Typing against the
protocol keeps the fake honest: if the runners need more, mypy says where.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from motia._core.spans import Tracing
from motia._project.triggers import TriggerInfo
from motia._runtime.context import FlowContext
from motia.settings import Settings

if TYPE_CHECKING:
    from motia._core.metrics import Metrics

__all__ = ["StepHost"]


class StepHost(Protocol):
    """The settings, a context for each firing of a step, and what observes the runs."""

    settings: Settings
    tracing: Tracing | None
    """Spans for each run, or None when the app does not trace."""
    metrics: Metrics | None
    """Counts of runs and errors, or None when the app serves no metrics."""

    def context(
        self, step_name: str, trigger: TriggerInfo, trace_id: str, input: Any
    ) -> FlowContext[Any]:
        """The ``ctx`` for one firing; ``input`` is what the handler receives."""
        ...
