"""``Settings``: the values an app runs with (no behaviour here)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    dev: bool = False
    """Dev mode: broken step files are reported and skipped, responses checked."""
    heartbeat_interval: float = 15.0
    """Seconds between ``: ping`` frames on an idle event stream; 0 turns pings off."""
    max_body_size: int = 10 * 1024 * 1024
    """Larger request bodies are refused with 413."""
    max_stream_buffer: int = 4 * 1024 * 1024
    """Bytes a streaming response may hold for a slow client before it is closed."""
    graceful_timeout: float = 5.0
    """Seconds open work gets to finish at shutdown."""
    console: bool = False
    """Serve the dev console at ``/__motia/console`` (``motia dev`` turns it on)."""
    metrics: bool = False
    """Count and serve Prometheus metrics at ``/__motia/metrics`` (``--metrics``)."""
    metrics_token: str | None = None
    """Lets non-loopback clients scrape with ``Authorization: Bearer <token>``."""
