"""Motia's ``motia.multi_trigger`` import path: one step, one handler per trigger kind."""

from motia._project.multi_trigger import MultiTriggerStepBuilder, multi_trigger_step

__all__ = ["MultiTriggerStepBuilder", "multi_trigger_step"]
