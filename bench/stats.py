"""Summaries of repeated samples: median with min-max, percentiles, per-round ratios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> dict[str, float]:
    """Round-by-round ratios (round i of one against round i of the other), summarised."""
    pairs = [a / b for a, b in zip(ours, theirs, strict=False) if b]
    return summary(pairs)


def bar(text: str, value: float, target: float, *, at_most: bool = False) -> dict[str, Any]:
    """A bar from the spec and whether this run's figure clears it."""
    holds = value <= target if at_most else value >= target
    return {"bar": text, "value": value, "target": target, "at_most": at_most, "holds": holds}
