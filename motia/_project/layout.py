"""Where a project's step files are, and the files that look like steps but are not named so.

A missing steps folder, or one without a single step file, would serve an empty
app without a word; ``steps_problem`` says what is wrong and how to fix it. A
file that defines a ``config`` and a ``handler`` but is not named ``*.step.py``
(``hello.steps.py``, ``hello_handler.py``) is skipped by discovery;
``misnamed_steps`` finds them so that they can be named in a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

from motia._project.loader import STEP_SUFFIXES, STREAM_SUFFIXES, discover

__all__ = ["misnamed_steps", "missing_steps", "no_step_files"]

_STEP_LIKE = (".steps.py", "_steps.py", ".handler.py", "_handler.py", "-step.py", ".Step.py")
_DEFINES_CONFIG = re.compile(r"^config\s*[:=]", re.MULTILINE)
_DEFINES_HANDLER = re.compile(r"^(?:async\s+)?def\s+handler\s*\(|^handler\s*[:=]", re.MULTILINE)
_CREATE = "or start a new project with `motia create NAME`"


def missing_steps(project_dir: Path, steps_dir: str | Path) -> str | None:
    """What is missing when neither ``project_dir / steps_dir`` nor ``src`` is a folder."""
    if not project_dir.is_dir():
        return f"the project folder {project_dir} does not exist; pass --project PATH, {_CREATE}"
    folder = project_dir / steps_dir
    if folder.is_dir() or (project_dir / "src").is_dir():
        return None
    return (
        f"no steps folder: {folder.resolve()} does not exist. Run motia in the project "
        f"folder, pass --project PATH or --dir FOLDER, {_CREATE}"
    )


def no_step_files(project_dir: Path, steps_dir: str | Path) -> str | None:
    """What is wrong when the steps folder (and ``src``) holds no step or stream file."""
    folder = project_dir / steps_dir
    roots = [root for root in (folder, project_dir / "src") if root.is_dir()]
    if not any(discover(root, STEP_SUFFIXES + STREAM_SUFFIXES) for root in roots):
        return (
            f"no step files under {', '.join(str(root) for root in roots)}: a step file's name "
            f"ends with .step.py (e.g. {folder / 'hello.step.py'}), {_CREATE}"
        )
    return None


def misnamed_steps(roots: list[Path]) -> list[tuple[Path, str]]:
    """Files under ``roots`` that look like steps but are not found as steps: (path, new name)."""
    found = []
    for root in roots:
        for path in discover(root, (".py",)):
            if path.name.endswith(STEP_SUFFIXES + STREAM_SUFFIXES):
                continue
            if path.name.endswith(_STEP_LIKE) or _defines_a_step(path):
                found.append((path, _step_name(path.name)))
    return found


def _defines_a_step(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(_DEFINES_CONFIG.search(text) and _DEFINES_HANDLER.search(text))


def _step_name(name: str) -> str:
    for suffix in _STEP_LIKE:
        if name.endswith(suffix):
            return name.removesuffix(suffix) + ".step.py"
    return name.removesuffix(".py") + ".step.py"
