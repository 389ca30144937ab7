"""The set of steps and streams an app serves, checked as a whole."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from motia._project.handlers import signature_problem
from motia._project.step import Step
from motia._project.triggers import HttpTrigger
from motia.exceptions import StepError

__all__ = ["HttpRoute", "Registry", "normalize_path"]

_COLON_PARAM = re.compile(r"(?<=/):([A-Za-z_][A-Za-z0-9_]*)")


def normalize_path(path: str) -> str:
    """Motia's ``/todo/:id`` and Starlette's ``/todo/{id}`` both become ``/todo/{id}``."""
    return _COLON_PARAM.sub(r"{\1}", path)


@dataclass(frozen=True, slots=True)
class HttpRoute:
    step: Step
    trigger: HttpTrigger
    index: int

    @property
    def path(self) -> str:
        return normalize_path(self.trigger.path)

    @property
    def method(self) -> str:
        return self.trigger.method


@dataclass
class Registry:
    steps: list[Step] = field(default_factory=list)
    streams: dict[str, Any] = field(default_factory=dict)
    errors: list[StepError] = field(default_factory=list)
    _by_name: dict[str, Step] = field(default_factory=dict, repr=False)
    _by_route: dict[tuple[str, str], Step] = field(default_factory=dict, repr=False)

    def add_files(self, steps: list[Step]) -> None:
        """Add steps loaded from files; of two with one name, the older file is kept.

        Both files are reported. Keeping the file that was there first means that, in dev,
        copying a step to start a new one leaves the one that worked serving.
        """
        groups: dict[str, list[Step]] = {}
        for step in steps:
            groups.setdefault(step.name, []).append(step)
        for step in steps:
            group = groups[step.name]
            kept = min(group, key=_modified_at)
            if len(group) > 1:
                self.errors.append(_duplicate_error(step, kept, group))
            if step is kept:
                self.add_step(step)

    def add_step(self, step: Step) -> None:
        problem = signature_problem(step.handler)
        if problem is not None:
            self.errors.append(StepError.at(step.file_path, problem, _first_line(step.handler)))
            return
        clash = self._by_name.get(step.name)
        if clash is not None:
            self.errors.append(
                StepError.at(
                    step.file_path,
                    f'duplicate step name "{step.name}" (also in {_where(clash)}); '
                    "give each step a unique name",
                )
            )
            return
        keys, route_error = self._route_keys(step)
        if route_error is not None:
            self.errors.append(route_error)
            return
        self.steps.append(step)
        self._by_name[step.name] = step
        self._by_route.update(dict.fromkeys(keys, step))

    def add_stream(self, config: Any, file_path: str | None) -> None:
        name = config.name
        if name in self.streams:
            message = f'duplicate stream name "{name}"; give each stream a unique name'
            self.errors.append(StepError.at(file_path, message))
            return
        self.streams[name] = config

    def http_routes(self) -> list[HttpRoute]:
        return [
            HttpRoute(step, trigger, index)
            for step in self.steps
            for index, trigger in enumerate(step.config.triggers)
            if isinstance(trigger, HttpTrigger)
        ]

    def _route_keys(self, step: Step) -> tuple[list[tuple[str, str]], StepError | None]:
        """The step's route keys, or the error for the first one already taken."""
        keys: list[tuple[str, str]] = []
        for index, trigger in enumerate(step.config.triggers):
            if not isinstance(trigger, HttpTrigger):
                continue
            key = _route_key(trigger.method, normalize_path(trigger.path))
            owner = self._by_route.get(key) or (step if key in keys else None)
            if owner is not None:
                return keys, StepError.at(
                    step.file_path,
                    f"{trigger.method} {trigger.path} (trigger {index}) is already served by "
                    f'step "{owner.name}" ({_where(owner)}); change the method or the path',
                )
            keys.append(key)
        return keys, None


def _route_key(method: str, path: str) -> tuple[str, str]:
    return method, re.sub(r"\{[^}]*\}", "{}", path)


def _where(step: Step) -> str:
    return str(StepError.at(step.file_path, "")).rstrip(": ")


def _first_line(handler: Any) -> int | None:
    code = getattr(handler, "__code__", None)
    return getattr(code, "co_firstlineno", None)


def _modified_at(step: Step) -> float:
    try:
        return os.stat(step.file_path).st_mtime if step.file_path else 0.0
    except OSError:
        return 0.0


def _duplicate_error(step: Step, kept: Step, group: list[Step]) -> StepError:
    others = ", ".join(_where(other) for other in group if other is not step)
    if step is kept:
        outcome = "this older file is served, the others are not"
    else:
        outcome = f"{_where(kept)} (older) is served instead"
    return StepError.at(
        step.file_path,
        f'duplicate step name "{step.name}" (also in {others}); {outcome}; '
        "rename one of them: every step needs a unique name",
    )
