"""What to do about an ImportError raised by a step file: a misspelling or a missing package.

A name close to one that exists (a module next to the step, an installed module,
a name the imported module defines) is most likely misspelled; a name close to
nothing is most likely not installed in this environment.
"""

from __future__ import annotations

import difflib
import pkgutil
import re
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["import_hint"]

_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)'")


def import_hint(exc: ImportError, folder: Path) -> str:
    """The fix for ``exc``, raised while importing a step file in ``folder``."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return _missing_module_hint(exc.name, folder)
    missing = _CANNOT_IMPORT.search(str(exc))
    module = sys.modules.get(exc.name or "")
    if missing and module is not None:
        near = _closest(missing[1], dir(module))
        if near:
            return f"did you mean `from {exc.name} import {near}`? fix the name"
        return f"`{exc.name}` has no `{missing[1]}`; check the name against its documentation"
    return "fix the import"


def _missing_module_hint(name: str, folder: Path) -> str:
    parent, _, last = name.rpartition(".")
    if parent:
        package = sys.modules.get(parent)
        if package is None:
            return _missing_module_hint(parent, folder)
        candidates: Iterable[str] = (m.name for m in pkgutil.iter_modules(package.__path__))
    else:
        candidates = _top_level_modules(folder)
    near = _closest(last, candidates)
    if near:
        spelled = f"{parent}.{near}" if parent else near
        return f"did you mean `{spelled}`? fix the module name"
    if parent:
        return f"`{parent}` has no module `{last}`; check the name"
    return (
        f"`{name}` is not installed in this environment ({sys.executable}): install the package "
        f"that provides it, or put a module `{name}.py` next to the step file or in src/"
    )


def _top_level_modules(folder: Path) -> set[str]:
    names = {module.name for module in pkgutil.iter_modules([str(folder), *sys.path])}
    return names | set(sys.builtin_module_names) | set(sys.stdlib_module_names)


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    near = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1, cutoff=0.8)
    return near[0] if near else None
