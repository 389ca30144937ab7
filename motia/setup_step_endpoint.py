"""Motia's ``motia.setup_step_endpoint``: ``GET __motia/step/:stepId`` for Motia's tooling.

Registers, on an engine client, a function that answers with a step file's source
and its tutorial features, and the HTTP trigger that routes to it, as Motia does.
Steps are found as ``motia build`` finds them (``motia.cli.discover_steps``) and
named by ``generate_step_id`` of their path.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from motia.loader import generate_step_id

__all__ = ["setup_step_endpoint"]

log = logging.getLogger("motia.step_endpoint")
FUNCTION_ID = "motia_step_get"


def setup_step_endpoint(iii: Any) -> None:
    """Register the step content function and its route on the client ``iii``."""
    from motia import cli

    files = {generate_step_id(path): path for path in cli.discover_steps("steps", include_src=True)}

    async def get_step(request: dict[str, Any]) -> dict[str, Any]:
        step_id = (request.get("path_params") or {}).get("stepId")
        if not step_id:
            return _answer(400, {"error": "stepId is required"})
        path = files.get(step_id)
        if path is None:
            return _answer(404, {"error": "Step not found"})
        try:
            content = Path(path).read_text()
        except Exception as exc:
            log.error("cannot read step file %s: %s", path, exc)
            return _answer(500, {"error": f"Failed to read step: {exc}"})
        return _answer(200, {"id": step_id, "content": content, "features": _features(path)})

    iii.register_function({"id": FUNCTION_ID}, get_step)
    route = {"api_path": "__motia/step/:stepId", "http_method": "GET"}
    iii.register_trigger({"type": "http", "function_id": FUNCTION_ID, "config": route})
    log.info("step content endpoint registered: GET __motia/step/:stepId")


def _features(step_path: str) -> Any:
    """``tutorial/<path under src>-features.json``, as Motia reads it, else []."""
    twin = "tutorial/" + step_path[4:] if step_path.startswith("src/") else step_path
    features = Path(twin.replace("/src/", "/tutorial/") + "-features.json")
    if not features.exists():
        return []
    try:
        return json.loads(features.read_text())
    except (OSError, ValueError) as exc:
        log.debug("ignoring unreadable features file %s: %s", features, exc)
        return []


def _answer(status_code: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"status_code": status_code, "body": body}
