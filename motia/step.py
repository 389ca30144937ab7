"""Motia's ``motia.step`` import path: ``step()`` and the step builders."""

from motia._project.step import Step, StepBuilder, StepDefinition, step

__all__ = ["Step", "StepBuilder", "StepDefinition", "step"]
