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
    max_body_memory: int = 64 * 1024 * 1024
    """Bytes of request bodies that the requests in progress may hold together; a body
    that would pass it is refused with 503."""
    max_form_fields: int = 1000
    """A form-encoded body with more fields is refused with 413 when the handler reads it."""
    max_headers: int = 100
    """A request with more header lines is refused with 431."""
    max_header_size: int = 64 * 1024
    """A request head (request line and headers) larger than this is refused with 431."""
    header_timeout: float = 10.0
    """Seconds a client has to send a request's head once it connected or began it (408)."""
    body_timeout: float = 30.0
    """Seconds a request body may go without a byte arriving before it is refused (408)."""
    keep_alive_timeout: float = 5.0
    """Seconds an idle keep-alive connection stays open between requests."""
    max_connections: int = 10_000
    """Open connections (HTTP and WebSocket) a server process keeps, and never more than its
    open-file limit allows (``ulimit -n`` less 64); past it, see ``server_protocol``."""
    max_queue_depth: int = 100_000
    """Deliveries waiting in one topic's queue past which ``enqueue`` to it is refused
    (``QueueFull``: 503 for an HTTP step); 0: no limit. Read every ``queue_reading_interval``."""
    max_queue_lag: float = 0.0
    """Seconds the oldest due delivery of a topic may have waited before ``enqueue`` to it is
    refused, as for ``max_queue_depth``; 0: no limit."""
    queue_reading_interval: float = 1.0
    """Seconds between readings of the queues' depth and lag (admission, metrics); a reading
    that takes long (a large SQLite queue) spaces them out to spend at most 5% of the time."""
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
    metrics: bool = False
    """Count and serve Prometheus metrics at ``/__motia/metrics`` (``--metrics``)."""
    metrics_token: str | None = None
    """Lets non-loopback clients scrape with ``Authorization: Bearer <token>``."""

    def __post_init__(self) -> None:
        # A list (from JSON or a caller) is taken as the tuple it stands for.
        object.__setattr__(self, "stream_origins", tuple(self.stream_origins))
