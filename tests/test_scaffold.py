"""`motia create`: a new project whose tests pass and whose `motia dev` serves at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from support import motia_process

from motia._scaffold import create_project
from motia.exceptions import ProjectExistsError


def test_create_writes_every_file_with_the_project_name(tmp_path: Path) -> None:
    files = create_project(tmp_path / "My Shop")
    names = sorted(str(p.relative_to(tmp_path / "My Shop")) for p in files)
    assert names == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "steps/hello/count_greetings.step.py",
        "steps/hello/hello.step.py",
        "steps/progress/progress.step.py",
        "steps/todo/add_todo.step.py",
        "steps/todo/todo.stream.py",
        "tests/test_steps.py",
    ]
    assert 'name = "my-shop"' in (tmp_path / "My Shop" / "pyproject.toml").read_text()


def test_create_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ProjectExistsError, match="not empty"):
        create_project(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def run_motia(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motia", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_the_cli_creates_a_project_whose_tests_pass(tmp_path: Path) -> None:
    created = run_motia("create", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "motia dev" in created.stdout
    project = tmp_path / "shop"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
    again = run_motia("create", "shop", cwd=tmp_path)
    assert again.returncode == 1 and "not empty" in again.stderr


@pytest.mark.slow
def test_a_created_project_serves_at_once(tmp_path: Path) -> None:
    create_project(tmp_path / "shop")
    with motia_process("dev", tmp_path / "shop") as server:
        assert httpx.get(server.url + "/hello/ada", timeout=5).json() == {"message": "Hello, ada!"}
        todo = httpx.post(server.url + "/todo", json={"title": "t"}, timeout=5)
        assert todo.status_code == 201
