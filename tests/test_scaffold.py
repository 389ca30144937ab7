"""`motia create`: a new project whose tests pass and whose `motia dev` serves at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import REPO, motia_process

from motia._scaffold import create_project, next_steps, source
from motia._scaffold.source import from_checkout, from_direct_url
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


def test_the_project_requires_this_package_from_where_it_was_installed() -> None:
    assert from_direct_url({"url": "file:///src/motia", "dir_info": {"editable": True}}) == (
        "motia-asgi @ file:///src/motia"
    )
    assert from_direct_url(
        {"url": "https://h/motia-0.1.0-py3-none-any.whl", "archive_info": {"hash": "sha256=0"}}
    ) == ("motia-asgi @ https://h/motia-0.1.0-py3-none-any.whl")
    vcs = {"url": "https://github.com/o/motia", "vcs_info": {"vcs": "git", "commit_id": "abc1"}}
    assert from_direct_url(vcs) == "motia-asgi @ git+https://github.com/o/motia@abc1"
    assert from_direct_url({**vcs, "subdirectory": "py"}).endswith("@abc1#subdirectory=py")
    assert from_checkout(Path("/src/motia")) == "motia-asgi @ file:///src/motia"


def test_an_index_install_is_required_by_name_and_version(monkeypatch) -> None:
    class FromIndex:
        version = "1.2.3"

        def read_text(self, name: str) -> None:
            return None

    monkeypatch.setattr(source.metadata, "distribution", lambda name: FromIndex())
    assert source.requirement() == "motia-asgi>=1.2.3"


def test_this_checkout_is_required_by_its_path(tmp_path: Path) -> None:
    # The test environment installs this checkout (editable); never a name no index serves.
    create_project(tmp_path / "shop")
    pyproject = tomllib.loads((tmp_path / "shop" / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == [f"motia-asgi @ {REPO.as_uri()}"]
    assert pyproject["project"]["optional-dependencies"]["test"] == ["pytest>=8"]


def test_the_next_steps_create_a_venv_before_installing() -> None:
    assert next_steps("my shop") == [
        "cd 'my shop'",
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]'",
        "pytest",
        "motia dev",
    ]


def run_motia(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "motia", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


_HEAVY = ("schemathesis", "playwright", "hypothesis", "fastapi")


@pytest.fixture
def checkout_kept_clean() -> Iterator[None]:
    """Installing the created project builds this checkout in place (its requirement is the
    checkout's path): what that leaves behind goes, or a later run would find a stale
    ``motia_asgi.egg-info`` before the editable install."""
    leftovers = [REPO / "build", REPO / "motia_asgi.egg-info"]
    there = {path for path in leftovers if path.exists()}
    yield
    for path in leftovers:
        if path not in there:
            shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.usefixtures("checkout_kept_clean")
def test_the_printed_commands_install_test_and_serve_in_a_fresh_venv(tmp_path: Path) -> None:
    created = run_motia("create", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    printed = [line.strip() for line in created.stdout.splitlines()[1:]]
    assert printed == next_steps("shop")
    cd, install, test, serve = printed
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(REPO))
    )
    result = subprocess.run(
        ["bash", "-c", f"{cd} && {install} && {test} -p no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=540,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout
    python = tmp_path / "shop" / ".venv" / "bin" / "python"
    installed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, timeout=60
    ).stdout.lower()
    assert [name for name in _HEAVY if name in installed] == []
    assert serve == "motia dev"
    with motia_process("dev", tmp_path / "shop", python=str(python)) as server:
        assert httpx.get(server.url + "/hello/ada", timeout=5).json() == {"message": "Hello, ada!"}
    again = run_motia("create", "shop", cwd=tmp_path)
    assert again.returncode == 1 and "not empty" in again.stderr


@pytest.mark.slow
def test_a_created_project_serves_at_once(tmp_path: Path) -> None:
    create_project(tmp_path / "shop")
    with motia_process("dev", tmp_path / "shop") as server:
        assert httpx.get(server.url + "/hello/ada", timeout=5).json() == {"message": "Hello, ada!"}
        todo = httpx.post(server.url + "/todo", json={"title": "t"}, timeout=5)
        assert todo.status_code == 201
