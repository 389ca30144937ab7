"""``motia.streams``: declaring a stream (``StreamConfig``) in a ``*.stream.py`` file."""

from motia._project.stream_config import StreamConfig

__all__ = ["StreamConfig"]
