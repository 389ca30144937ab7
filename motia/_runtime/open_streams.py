"""``OpenStreams``: the streaming responses still open, so a shutdown can end them.

A response registers itself when it starts streaming and leaves when it is
released; the runtime only needs to tell each one to end.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["OpenStream", "OpenStreams"]


class OpenStream(Protocol):
    def shutdown(self) -> None:
        """The server is stopping: end the stream (its handler is cancelled)."""


class OpenStreams:
    def __init__(self) -> None:
        self._streams: set[OpenStream] = set()

    def add(self, stream: OpenStream) -> None:
        self._streams.add(stream)

    def discard(self, stream: OpenStream) -> None:
        self._streams.discard(stream)

    def __len__(self) -> int:
        return len(self._streams)

    def shutdown(self) -> None:
        """End every open stream (a stream may leave while this runs)."""
        for stream in list(self._streams):
            stream.shutdown()
