"""Motia's ``motia.setup_step_endpoint`` import path: an engine hook, with no engine here."""

from typing import Any, NoReturn

__all__ = ["setup_step_endpoint"]


def setup_step_endpoint(iii: Any = None) -> NoReturn:
    raise RuntimeError(
        "setup_step_endpoint(): there is no Motia engine here; the app serves its steps "
        "itself (motia routes lists them, motia openapi describes them)"
    )
