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
    console_hosts: tuple[str, ...] = ()
    """Host names the console answers to besides loopback ones (``localhost``, 127.0.0.1)."""
    console_token: str | None = None
    """Asked of every console request when set; needed to serve it on a non-loopback address."""
    access_log: bool = False
    """Log every HTTP request to ``motia.access`` (``motia dev`` turns it on)."""
