"""Every Python sample in docs/ and README.md runs, so the guides cannot rot.

A block starting with ``# steps/<path>`` is written to a project of its own
(one per document) that must load without errors; a block starting with
``# check`` runs with that project as the working directory; every other
Python block must compile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

DOCS = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list[str]:
    return _BLOCK.findall(path.read_text(encoding="utf-8"))


def write_project(blocks: list[str], root: Path) -> None:
    for block in blocks:
        first = block.splitlines()[0]
        if first.startswith("# steps/") or first.startswith("# src/"):
            target = root / first.removeprefix("# ").strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block, encoding="utf-8")
        elif first.startswith("# motia_config.py"):
            (root / "motia_config.py").write_text(block, encoding="utf-8")


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_every_python_sample_compiles(doc: Path) -> None:
    for index, block in enumerate(python_blocks(doc)):
        compile(block, f"{doc.name}[{index}]", "exec")


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_step_samples_load_and_checks_pass(doc: Path, tmp_path: Path) -> None:
    blocks = python_blocks(doc)
    write_project(blocks, tmp_path)
    checks = [block for block in blocks if block.startswith("# check")]
    if (tmp_path / "steps").is_dir():
        checks.insert(0, "from motia import Motia\nMotia('steps', store='memory')\n")
    for index, check in enumerate(checks):
        result = subprocess.run(
            [sys.executable, "-c", check],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert result.returncode == 0, f"{doc.name} check {index} failed:\n{result.stderr}"


_BARE_INSTALL = re.compile(r"pip install [\"']?motia-asgi(?:\[[^\]]*\])?(?![^\s\"']*\s*@)")


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_no_install_line_asks_an_index_for_motia_asgi(doc: Path) -> None:
    # The distribution is not on any index: an install line names a path, a wheel or a URL.
    assert _BARE_INSTALL.findall(doc.read_text(encoding="utf-8")) == []
