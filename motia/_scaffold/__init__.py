"""``motia create``: a new project whose tests pass and whose ``motia dev`` serves at once."""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from motia.exceptions import ProjectExistsError

__all__ = ["create_project"]

_TEMPLATE_SUFFIX = ".tmpl"
_RENAMED = {"gitignore": ".gitignore"}


def create_project(target: str | Path, name: str | None = None) -> list[Path]:
    """Write the project template into ``target`` (absent or empty); returns the files."""
    folder = Path(target)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ProjectExistsError(f"{folder} already exists and is not empty; choose a new folder")
    project_name = name or _package_name(folder.resolve().name)
    template = resources.files("motia._scaffold") / "templates" / "project"
    return list(_copy(template, folder, project_name))


def _copy(source: Traversable, destination: Path, name: str) -> list[Path]:
    written: list[Path] = []
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            written += _copy(entry, destination / entry.name, name)
            continue
        if not entry.name.endswith(_TEMPLATE_SUFFIX):
            continue
        stem = entry.name.removesuffix(_TEMPLATE_SUFFIX)
        path = destination / _RENAMED.get(stem, stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entry.read_text(encoding="utf-8").format(name=name), encoding="utf-8")
        written.append(path)
    return written


def _package_name(folder_name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", folder_name).strip("-").lower()
    return cleaned or "motia-project"
