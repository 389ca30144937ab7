"""Mistakes in a project: each is named with its file, line and fix, and loses nothing else."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import httpx
import pytest
from support import motia_process, write_step

from motia import BuildError, Motia
from motia.cli import main
from motia.exceptions import ServeError
from motia.server import ServeOptions, check_project

pytestmark = pytest.mark.anyio


def greeting(name: str, word: str) -> str:
    return (
        "from motia import http\n"
        f"config = {{'name': '{name}', 'triggers': [http('GET', '/hi')]}}\n"
        f"async def handler(args, ctx): return {{'status': 200, 'body': {{'word': '{word}'}}}}\n"
    )


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def errors_of(project: Path) -> list[str]:
    return [str(error) for error in Motia("steps", project_dir=project, dev=True).errors]


# -- duplicate names -------------------------------------------------------------------------


def test_a_duplicate_name_keeps_the_older_file_and_flags_both(tmp_path: Path) -> None:
    # The newer copy sorts first: alphabetical order must not decide.
    age(write_step(tmp_path / "steps", "z_hello.step.py", greeting("Hello", "old")), 100)
    write_step(tmp_path / "steps", "a_hello.step.py", greeting("Hello", "new"))
    motia = Motia("steps", project_dir=tmp_path, dev=True, store="memory")
    [step] = motia.registry.steps
    assert step.file_path is not None and step.file_path.endswith("z_hello.step.py")
    messages = [str(error) for error in motia.errors]
    assert len(messages) == 2
    new, old = sorted(messages)
    assert "a_hello.step.py" in new and "z_hello.step.py" in new and "is served instead" in new
    assert old.startswith(str(Path("steps/z_hello.step.py"))) or "z_hello.step.py:" in old
    assert "this older file is served" in old


def test_outside_dev_a_duplicate_name_fails_naming_both_files(tmp_path: Path) -> None:
    write_step(tmp_path / "steps", "one.step.py", greeting("Hello", "1"))
    write_step(tmp_path / "steps", "two.step.py", greeting("Hello", "2"))
    with pytest.raises(BuildError) as failure:
        Motia("steps", project_dir=tmp_path, store="memory")
    files = sorted(Path(error.file).name for error in failure.value.errors)
    assert files == ["one.step.py", "two.step.py"]


@pytest.mark.slow
def test_dev_keeps_serving_the_step_that_was_there_when_a_copy_appears(tmp_path: Path) -> None:
    write_step(tmp_path / "steps", "z_hello.step.py", greeting("Hello", "old"))
    with motia_process("dev", tmp_path) as server:
        assert httpx.get(server.url + "/hi", timeout=5).json() == {"word": "old"}
        write_step(tmp_path / "steps", "a_copy.step.py", greeting("Hello", "copy"))
        deadline = time.monotonic() + 20
        while 'duplicate step name "Hello"' not in server.log():  # the reloaded build
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert httpx.get(server.url + "/hi", timeout=5).json() == {"word": "old"}


# -- import errors and handler signatures ----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import jsonn\n", "did you mean `json`? fix the module name"),
        ("import helpr\n", "did you mean `helper`? fix the module name"),
        ("from motia import htp\n", "did you mean `from motia import http`? fix the name"),
        ("import motia.trigers\n", "did you mean `motia.triggers`? fix the module name"),
        ("import zz_not_a_real_package\n", "is not installed in this environment"),
    ],
)
def test_an_import_error_names_the_line_and_the_likely_fix(
    tmp_path: Path, source: str, expected: str
) -> None:
    write_step(tmp_path / "steps", "helper.py", "X = 1\n")
    write_step(tmp_path / "steps", "a.step.py", "# a step\n" + source + greeting("A", "a"))
    [error] = errors_of(tmp_path)
    assert "steps/a.step.py:2: " in error, error
    assert expected in error
    if "not installed" not in expected:
        assert "install" not in error


def test_a_handler_that_needs_more_than_input_and_ctx_fails_the_build(tmp_path: Path) -> None:
    source = greeting("A", "a").replace("handler(args, ctx)", "handler(args, ctx, logger)")
    write_step(tmp_path / "steps", "a.step.py", source)
    [error] = errors_of(tmp_path)
    assert "steps/a.step.py:3: " in error, error
    assert "requires 3 arguments (args, ctx, logger)" in error


def test_a_required_keyword_only_parameter_fails_the_build(tmp_path: Path) -> None:
    source = greeting("A", "a").replace("handler(args, ctx)", "handler(args, *, ctx)")
    write_step(tmp_path / "steps", "a.step.py", source)
    [error] = errors_of(tmp_path)
    assert "requires the keyword argument `ctx`" in error


def test_handlers_taking_fewer_or_optional_arguments_still_build(tmp_path: Path) -> None:
    for index, params in enumerate(["", "args", "args, ctx=None, extra=1", "*args", "args, **kw"]):
        source = greeting(f"S{index}", "x").replace("handler(args, ctx)", f"handler({params})")
        write_step(tmp_path / "steps", f"s{index}.step.py", source.replace("/hi", f"/s{index}"))
    assert errors_of(tmp_path) == []


# -- missing steps, misnamed files, empty route tables ----------------------------------------


def test_commands_refuse_a_missing_steps_folder(tmp_path: Path, capsys) -> None:
    for argv in (["routes"], ["openapi"], ["flows"]):
        assert main([*argv, "--project", str(tmp_path)]) == 1
        error = capsys.readouterr().err
        assert f"no steps folder: {(tmp_path / 'steps').resolve()} does not exist" in error
        assert "--dir" in error and "motia create" in error
    assert main(["routes", "--project", str(tmp_path / "nowhere")]) == 1
    assert "the project folder" in capsys.readouterr().err


def test_an_empty_steps_folder_is_an_error_outside_dev(tmp_path: Path, capsys) -> None:
    (tmp_path / "steps").mkdir()
    assert main(["routes", "--project", str(tmp_path)]) == 1
    assert "no step files under" in capsys.readouterr().err
    with pytest.raises(ServeError, match=r"hello\.step\.py"):
        check_project(ServeOptions(project_dir=str(tmp_path)))
    with pytest.raises(ServeError, match="no steps folder"):
        check_project(ServeOptions(project_dir=str(tmp_path), steps_dir="stpes", dev=True))


def test_dev_serves_an_empty_steps_folder_saying_what_to_add(tmp_path: Path, caplog) -> None:
    (tmp_path / "steps").mkdir()
    with caplog.at_level(logging.ERROR, logger="motia"):
        check_project(ServeOptions(project_dir=str(tmp_path), dev=True))
    assert any("no step files under" in record.getMessage() for record in caplog.records)


def test_routes_says_when_no_step_has_an_http_trigger(tmp_path: Path, capsys) -> None:
    write_step(
        tmp_path / "steps",
        "work.step.py",
        "from motia import queue\nconfig = {'name': 'Work', 'triggers': [queue('w')]}\n"
        "async def handler(data, ctx): pass\n",
    )
    assert main(["routes", "--project", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no HTTP routes: 1 step(s), none with an http() trigger" in captured.err


def test_files_that_look_like_steps_are_named_once(tmp_path: Path, caplog) -> None:
    steps = tmp_path / "steps"
    write_step(steps, "hello.steps.py", greeting("A", "a"))
    write_step(steps, "hello_handler.py", greeting("B", "b").replace("/hi", "/b"))
    write_step(steps, "greet.py", greeting("C", "c").replace("/hi", "/c"))
    write_step(steps, "hello_step.py", greeting("D", "d").replace("/hi", "/d"))
    write_step(steps, "helper.py", "config = {}\n")  # a helper without a handler
    with caplog.at_level(logging.WARNING, logger="motia.project"):
        motia = Motia("steps", project_dir=tmp_path, store="memory")
    assert [step.name for step in motia.registry.steps] == ["D"]
    warned = sorted(r.getMessage() for r in caplog.records if r.name == "motia.project")
    assert len(warned) == 3
    assert "greet.py looks like a step but is not loaded" in warned[0]
    assert warned[0].endswith("rename it to greet.step.py")
    assert warned[2].endswith(
        "hello_handler.py looks like a step but is not loaded: a step "
        "file's name ends with .step.py; rename it to hello.step.py"
    )
    assert "hello.steps.py" in warned[1] and warned[1].endswith("rename it to hello.step.py")
