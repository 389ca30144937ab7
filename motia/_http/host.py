"""``HttpHost``: what an HTTP endpoint needs from the runtime, beyond any step host.

Streaming responses register with their host while they are open, so that the
runtime can end them at shutdown, and share its counters. The app's ``Runtime``
and the test kit's ``FakeRuntime`` both satisfy this protocol.
"""

from __future__ import annotations

from typing import Protocol

from motia._runtime.body_budget import BodyBudget
from motia._runtime.open_streams import OpenStreams
from motia._runtime.protocol import StepHost
from motia._runtime.stats import Stats

__all__ = ["HttpHost"]


class HttpHost(StepHost, Protocol):
    """A step host that also keeps the open streaming responses, their counters and the
    budget of request bodies in progress."""

    stats: Stats
    responses: OpenStreams
    body_budget: BodyBudget
