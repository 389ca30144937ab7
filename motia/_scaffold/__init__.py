"""``motia create``: a new project whose tests pass and whose ``motia dev`` serves at once."""

from __future__ import annotations

import re
import shlex
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from motia._scaffold.source import requirement
from motia.exceptions import ProjectExistsError

__all__ = ["create_project", "next_steps"]

_TEMPLATE_SUFFIX = ".tmpl"
_RENAMED = {"gitignore": ".gitignore"}


def create_project(
    target: str | Path, name: str | None = None, *, dependency: str | None = None
) -> list[Path]:
    """Write the project template into ``target`` (absent or empty); returns the files.

    The project depends on this package as ``dependency``, by default installed from
    wherever this copy was installed from (an index, a local folder, a VCS URL).
    """
    folder = Path(target)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ProjectExistsError(f"{folder} already exists and is not empty; choose a new folder")
    values = {
        "name": name or _package_name(folder.resolve().name),
        "requirement": dependency or requirement(),
    }
    template = resources.files("motia._scaffold") / "templates" / "project"
    return list(_copy(template, folder, values))


def next_steps(folder: str | Path) -> list[str]:
    """The shell commands that install, test and serve a project just created in ``folder``."""
    return [
        f"cd {shlex.quote(str(folder))}",
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]'",
        "pytest",
        "motia dev",
    ]


def _copy(source: Traversable, destination: Path, values: dict[str, str]) -> list[Path]:
    written: list[Path] = []
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            written += _copy(entry, destination / entry.name, values)
            continue
        if not entry.name.endswith(_TEMPLATE_SUFFIX):
            continue
        stem = entry.name.removesuffix(_TEMPLATE_SUFFIX)
        path = destination / _RENAMED.get(stem, stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry.read_text(encoding="utf-8").format(**values), encoding="utf-8")
        written.append(path)
    return written


def _package_name(folder_name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", folder_name).strip("-").lower()
    return cleaned or "motia-project"
