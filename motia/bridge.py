"""Motia's ``motia.bridge``: ``bridge``, the engine client (``get_instance()``)."""

from motia.iii import get_instance

__all__ = ["bridge"]

bridge = get_instance()
