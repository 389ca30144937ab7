"""The Lua scripts of the Redis store and queue, kept in ``lua/`` and read once at import."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files

__all__ = ["read_scripts"]


def read_scripts(folder: str, names: Iterable[str], prelude: str | None = None) -> dict[str, str]:
    """The text of ``lua/{folder}/{name}.lua`` by upper-case name, each after ``prelude``'s."""
    scripts = files("motia.backends").joinpath("lua", folder)

    def text(name: str) -> str:
        return scripts.joinpath(f"{name.lower()}.lua").read_text(encoding="utf-8")

    head = "" if prelude is None else text(prelude) + "\n"
    return {name: head + text(name) for name in names}
