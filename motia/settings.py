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
    send_timeout: float = 30.0
    """Seconds a send to a streaming client may wait without progress before the client
    counts as gone: its handler is cancelled and its connection reset. 0: no limit."""
    replay_messages: int = 512
    """Messages each stream group keeps for SSE clients resuming with ``Last-Event-ID``."""
    replay_bytes: int = 1024 * 1024
    """Bytes of messages each stream group keeps for resuming SSE clients."""
    replay_total_bytes: int = 64 * 1024 * 1024
    """Bytes of messages kept for resuming SSE clients by every stream group together."""
    replay_idle_timeout: float = 120.0
    """Seconds a stream group nobody watches keeps its messages for resuming clients."""
    replay_idle_groups: int = 256
    """Stream groups nobody watches that keep their messages (the least recent go first)."""
    graceful_timeout: float = 5.0
    """Seconds open work gets to finish at shutdown."""
    sync_call_timeout: float = 30.0
    """Seconds a synchronous ``Stream``/``stateManager`` call may wait for its answer."""
    console: bool = False
    """Serve the dev console at ``/__motia/console`` (``motia dev`` turns it on)."""
    console_hosts: tuple[str, ...] = ()
    """Host names the console answers to besides loopback ones (``localhost``, 127.0.0.1)."""
    console_token: str | None = None
    """Asked of every console request when set; needed to serve it on a non-loopback address."""
    access_log: bool = False
    """Log every HTTP request to ``motia.access`` (``motia dev`` turns it on)."""
    max_stream_message: int = 16 * 1024
    """Bytes of one message a client sends on a stream WebSocket, once decompressed;
    a larger one closes the socket with 1009."""
    max_stream_name: int = 256
    """Characters in a stream, group, item or subscription name a client sends."""
    max_subscriptions: int = 1000
    """Subscriptions one stream WebSocket may hold; a join beyond gets an error event."""
    stream_origins: tuple[str, ...] = ()
    """Browser origins (``https://app.example.com``) that may subscribe to streams besides
    the app's own and loopback ones; ``"*"`` admits every origin."""

    def __post_init__(self) -> None:
        # A list (from JSON or a caller) is taken as the tuple it stands for.
        object.__setattr__(self, "stream_origins", tuple(self.stream_origins))
