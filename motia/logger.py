"""Motia's ``motia.logger`` import path: the running step's logger."""

from motia._runtime.current import ModuleLogger

__all__ = ["logger"]

logger = ModuleLogger()
