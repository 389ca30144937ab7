"""Find step and stream files and import them by path.

``*.step.py`` is not an importable module name, so every file is imported from
its path under a unique module name: two ``hello.step.py`` in different
folders never collide. A step file may import helper modules from its own
folder. Every failure becomes a ``StepError`` naming the file, the line and
the fix; the other files still load.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from motia._project.config import parse_step_config
from motia._project.import_hints import import_hint
from motia._project.step import Step, StepDefinition
from motia.exceptions import ConfigError, StepError

__all__ = [
    "PROJECT_CONFIG",
    "LoadResult",
    "discover",
    "load_project",
    "load_project_config",
    "load_step_file",
    "load_stream_file",
]

STEP_SUFFIXES = (".step.py", "_step.py")
STREAM_SUFFIXES = (".stream.py", "_stream.py")
_SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", "site-packages"}


@dataclass
class LoadResult:
    steps: list[Step] = field(default_factory=list)
    streams: list[tuple[Any, str]] = field(default_factory=list)
    errors: list[StepError] = field(default_factory=list)
    folder_names: dict[Path, set[str]] = field(default_factory=dict, repr=False)


def discover(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under ``root`` whose names end with one of ``suffixes``, sorted."""
    if not root.is_dir():
        return []
    return sorted(path for path in _walk(root) if path.name.endswith(suffixes))


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in files:
            yield Path(folder, name)


def load_project(roots: list[Path]) -> LoadResult:
    result = LoadResult()
    for root in roots:
        for path in discover(root, STEP_SUFFIXES):
            load_step_file(path, result)
        for path in discover(root, STREAM_SUFFIXES):
            load_stream_file(path, result)
    return result


PROJECT_CONFIG = "motia_config.py"


def load_project_config(project_dir: Path, result: LoadResult) -> ModuleType | None:
    """The project's ``motia_config.py`` (app-wide hooks such as ``stream_auth``), if any."""
    path = project_dir / PROJECT_CONFIG
    return _import(path, result) if path.is_file() else None


def load_step_file(path: Path, result: LoadResult) -> None:
    """Import one step file, adding its step (or its errors) to ``result``."""
    module = _import(path, result)
    if module is None:
        return
    try:
        definition = _definition(module)
        config = parse_step_config(definition.config)
    except ConfigError as exc:
        result.errors.append(StepError.at(path, str(exc), _line_of(path, "config")))
        return
    if not callable(definition.handler):
        message = "`handler` must be a function, e.g. `async def handler(request, ctx): ...`"
        result.errors.append(StepError.at(path, message, _line_of(path, "handler")))
        return
    result.steps.append(Step(config, definition.handler, str(path)))


def load_stream_file(path: Path, result: LoadResult) -> None:
    module = _import(path, result)
    if module is None:
        return
    config = getattr(module, "config", None)
    if config is None:
        message = "no `config` found; define `config = StreamConfig(name=..., schema=...)`"
        result.errors.append(StepError.at(path, message))
        return
    result.streams.append((config, str(path)))


def _definition(module: ModuleType) -> StepDefinition:
    definitions = [v for v in vars(module).values() if isinstance(v, StepDefinition)]
    if len(definitions) == 1 and not hasattr(module, "handler"):
        return definitions[0]
    config = getattr(module, "config", None)
    if config is None:
        raise ConfigError(
            "no `config` found; define a module-level `config = {...}` "
            "(or `my_step = step(config, handler)`)"
        )
    handler = getattr(module, "handler", None)
    if handler is None:
        raise ConfigError(
            "no `handler` found; define `async def handler(request, ctx): ...` next to `config`"
        )
    return StepDefinition(config, handler)


def _import(path: Path, result: LoadResult) -> ModuleType | None:
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # Absolute, whatever form --dir takes, so a helper module imported from this folder
    # is recognised as ours and stays one module for every step here.
    home = path.parent.resolve()
    folder = str(home)
    _forget_foreign_siblings(home, result)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        message = f"syntax error: {exc.msg}; fix the Python syntax on that line"
        result.errors.append(StepError.at(path, message, exc.lineno))
        return None
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        result.errors.append(_import_error(path, exc))
        return None
    finally:
        sys.path.remove(folder)
    return module


def _import_error(path: Path, exc: BaseException) -> StepError:
    line = _failing_line(path, exc)
    what = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ImportError):
        fix = import_hint(exc, path.parent)
    else:
        fix = "fix the error raised while the file was imported"
    return StepError.at(path, f"{what} while importing; {fix}", line)


def _failing_line(path: Path, exc: BaseException) -> int | None:
    frames = traceback.extract_tb(exc.__traceback__)
    where = path.resolve()
    lines = [frame.lineno for frame in frames if Path(frame.filename).resolve() == where]
    return lines[-1] if lines else None


def _forget_foreign_siblings(folder: Path, result: LoadResult) -> None:
    """Drop cached helper modules of another step folder that share a name with ours."""
    for name in _importable_names(folder, result.folder_names):
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if origin and "site-packages" not in origin and not _within(origin, folder):
            del sys.modules[name]


def _within(origin: str, folder: Path) -> bool:
    return Path(origin).resolve().is_relative_to(folder)


def _importable_names(folder: Path, seen: dict[Path, set[str]]) -> set[str]:
    """Module and package names in ``folder`` (listed once per load)."""
    names = seen.get(folder)
    if names is None:
        names = seen[folder] = {
            entry.stem if entry.suffix == ".py" else entry.name
            for entry in folder.iterdir()
            if entry.suffix == ".py" or (entry / "__init__.py").exists()
        }
    return names


def _module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    stem = path.name.removesuffix(".py").replace(".", "_").replace("-", "_")
    return f"_motia_user_{stem}_{digest}"


def _line_of(path: Path, name: str) -> int | None:
    """The line where ``name`` is first assigned or defined at module level."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0]
        if stripped.startswith((f"{name} =", f"{name}=", f"def {name}(", f"async def {name}(")):
            return number
    return None
