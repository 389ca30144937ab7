"""``model_validate`` / ``model_dump`` for the step and trigger dataclasses.

Motia's step and trigger types are pydantic models, and Motia code calls those two
methods on them. Here they are slotted dataclasses (cheap on the hot path), with the
two methods added: ``model_dump(by_alias=True)`` spells keys in camelCase as Motia does.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

from motia._project.names import snake_keys

__all__ = ["ModelLike", "dump_value"]

M = TypeVar("M", bound="ModelLike")


class ModelLike:
    __slots__ = ()
    aliases: ClassVar[dict[str, str]] = {}

    @classmethod
    def model_validate(cls: type[M], value: Any) -> M:
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise TypeError(f"{cls.__name__}.model_validate needs a dict, got {value!r}")
        return cls._from_dict(snake_keys(value))

    @classmethod
    def _from_dict(cls: type[M], raw: dict[str, Any]) -> M:
        return cls(**raw)

    def model_dump(self, *, by_alias: bool = False, exclude_none: bool = False) -> dict[str, Any]:
        dumped: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if exclude_none and value is None:
                continue
            key = self.aliases.get(field.name, field.name) if by_alias else field.name
            dumped[key] = dump_value(value, by_alias, exclude_none)
        return dumped


def dump_value(value: Any, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(value, ModelLike):
        return value.model_dump(by_alias=by_alias, exclude_none=exclude_none)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(by_alias=by_alias, exclude_none=exclude_none)
    if isinstance(value, list | tuple):
        return [dump_value(item, by_alias, exclude_none) for item in value]
    if isinstance(value, dict):
        return {key: dump_value(item, by_alias, exclude_none) for key, item in value.items()}
    return value
