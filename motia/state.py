"""Motia's ``motia.state`` import path: the synchronous ``StateManager``/``stateManager``."""

from motia._runtime.current import ModuleStateManager as StateManager

__all__ = ["StateManager", "stateManager"]

stateManager = StateManager()
