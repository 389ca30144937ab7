"""Motia's ``motia.loader`` import path: ``generate_step_id``."""

import uuid

__all__ = ["generate_step_id"]

_STEP_NAMESPACE = uuid.UUID("7f1c3ff2-9b00-4d0a-bdd7-efb8bca49d4f")
"""Motia's namespace, so a path gives the same id here as in Motia's tooling."""


def generate_step_id(path: str) -> str:
    """A stable id for the step file at ``path`` (a UUID5 of the path)."""
    return str(uuid.uuid5(_STEP_NAMESPACE, path))
