"""The built wheel carries what an installed copy needs beyond the Python modules.

``py.typed`` tells type checkers to read motia's annotations; the console serves its
static files, ``motia create`` copies its templates and the Redis backends read their
Lua scripts from the installed package, so a file missing from ``package-data`` works
in a checkout and breaks once installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import REPO

PACKAGE_DATA = ["motia/console/static", "motia/_scaffold/templates", "motia/backends/lua"]


def build_wheel(tmp_path: Path) -> zipfile.ZipFile:
    """Build from a copy of the sources, so the checkout gets no ``build/`` folder."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "motia", source / "motia", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    out = tmp_path / "wheel"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-q", "-w", str(out), str(source)], check=True, timeout=240)
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def source_files(folder: str) -> set[str]:
    root = REPO / folder
    return {
        path.relative_to(REPO).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_the_wheel_ships_py_typed_the_console_files_the_templates_and_the_lua_scripts(
    tmp_path: Path,
) -> None:
    with build_wheel(tmp_path) as wheel:
        names = set(wheel.namelist())
    assert "motia/py.typed" in names
    for folder in PACKAGE_DATA:
        expected = source_files(folder)
        assert expected, folder
        assert expected - names == set(), folder
    assert "motia/console/static/index.html" in names
    assert "motia/_scaffold/templates/project/steps/hello/hello.step.py.tmpl" in names
    assert "motia/backends/lua/store/write.lua" in names
    assert "motia/backends/lua/queue/prelude.lua" in names
