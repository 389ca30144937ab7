"""``motia.streams``: ``StreamConfig`` (a ``*.stream.py`` file) and Motia's ``Stream(name)``."""

from motia._project.stream_config import StreamConfig
from motia._runtime.current import BoundStream as Stream

__all__ = ["Stream", "StreamConfig"]
