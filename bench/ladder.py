"""The sustainable rate: climb a ladder of offered rates and stop at the first that fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bench.deliveries import Deliveries


@dataclass
class Step:
    rate: float
    sent: int
    answered_2xx: int
    deliveries: Deliveries
    server_cpu_s: float = 0.0
    """CPU seconds of the server side (every process of it) over the step."""
    client_busy: float = 0.0
    """The client's share of its core over the step."""
    seconds: float = 0.0
    """From the first send to the last delivery (or the grace deadline)."""
    retried: bool = False
    """This is the second attempt at its rate: the first was only too slow."""

    def failure(self, p99_limit_ms: float) -> str | None:
        """Why this rate is not sustainable, or None when it is."""
        if self.answered_2xx < self.sent:
            return f"{self.sent - self.answered_2xx} of {self.sent} POSTs not answered 2xx"
        problem = self.deliveries.problem()
        if problem:
            return problem
        if self.slow(p99_limit_ms):
            return f"p99 {self.deliveries.p(99):.1f} ms >= {p99_limit_ms:g} ms"
        return None

    def slow(self, p99_limit_ms: float) -> bool:
        return not self.deliveries.p(99) < p99_limit_ms

    def only_slow(self, p99_limit_ms: float) -> bool:
        """Everything answered and delivered once, only later than the limit."""
        complete = self.answered_2xx == self.sent and self.deliveries.problem() is None
        return complete and self.slow(p99_limit_ms)


async def climb(
    rates: Sequence[float], attempt: Callable[[float], Awaitable[Step]], p99_limit_ms: float
) -> list[Step]:
    """Every step tried, up to and including the first that fails.

    A rate that was only too slow is tried once more before it counts as failed: one stall
    caused by the other work on a shared machine does not end the climb. A loss or an
    unanswered POST fails at once.
    """
    steps = []
    for rate in rates:
        step = await attempt(rate)
        if step.only_slow(p99_limit_ms):
            step = await attempt(rate)
            step.retried = True
        steps.append(step)
        if step.failure(p99_limit_ms):
            break
    return steps


def sustained(steps: Sequence[Step], p99_limit_ms: float) -> Step | None:
    """The highest step that held, or None when even the first failed."""
    held = [s for s in steps if not s.failure(p99_limit_ms)]
    return held[-1] if held else None
