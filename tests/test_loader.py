"""Finding step files and importing them by path; errors name the file, line and fix."""

import textwrap
from pathlib import Path

import httpx
import pytest

from motia import BuildError, Motia
from motia._project.loader import STEP_SUFFIXES, discover, load_project

pytestmark = pytest.mark.anyio


def write(root: Path, relative: str, source: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def hello(name: str, path: str, reply: str = "hi") -> str:
    return f"""
        from motia import http

        config = {{"name": "{name}", "triggers": [http("GET", "{path}")]}}

        async def handler(args, ctx):
            return {{"status": 200, "body": "{reply}"}}
    """


def build(tmp_path: Path, dev: bool = False) -> Motia:
    return Motia(steps_dir=tmp_path / "steps", project_dir=tmp_path, store="memory", dev=dev)


async def get(app: Motia, path: str) -> httpx.Response:
    asgi = app.asgi()
    async with asgi.router.lifespan_context(asgi):
        transport = httpx.ASGITransport(asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)


def test_discovers_both_suffixes_recursively_and_skips_the_rest(tmp_path: Path) -> None:
    for name in ["a.step.py", "deep/er/b_step.py", "c.py", "d.stream.py", ".hidden/e.step.py"]:
        write(tmp_path, name, "")
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path, STEP_SUFFIXES)]
    assert found == ["a.step.py", "deep/er/b_step.py"]


async def test_same_file_name_in_two_folders_both_load(tmp_path: Path) -> None:
    write(tmp_path, "steps/one/hello.step.py", hello("One", "/one", "from one"))
    write(tmp_path, "steps/two/hello.step.py", hello("Two", "/two", "from two"))
    app = build(tmp_path)
    assert sorted(s.name for s in app.registry.steps) == ["One", "Two"]
    assert (await get(app, "/one")).text == "from one"
    assert (await get(app, "/two")).text == "from two"


async def test_sibling_helpers_with_the_same_name_do_not_collide(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        write(tmp_path, f"steps/{folder}/helpers.py", f'WHO = "{folder}"\n')
        write(
            tmp_path,
            f"steps/{folder}/who_step.py",
            f"""
            from helpers import WHO
            from motia import http

            config = {{"name": "Who{folder}", "triggers": [http("GET", "/{folder}")]}}

            async def handler(args, ctx):
                return {{"status": 200, "body": WHO}}
            """,
        )
    app = build(tmp_path)
    assert (await get(app, "/a")).text == "a"
    assert (await get(app, "/b")).text == "b"


async def test_step_builder_forms(tmp_path: Path) -> None:
    write(
        tmp_path,
        "steps/forms.step.py",
        """
        from motia import StepConfig, http, step

        async def reply(args, ctx):
            return {"status": 200, "body": ctx.trigger.path}

        first = step({"name": "First", "triggers": [http("GET", "/first")]}, reply)
        """,
    )
    write(
        tmp_path,
        "steps/built_step.py",
        """
        from motia import StepConfig, http, step

        async def reply(args, ctx):
            return {"status": 200, "body": ctx.trigger.path}

        second = step(StepConfig(name="Second", triggers=[http("GET", "/second")])).handle(reply)
        """,
    )
    app = build(tmp_path)
    assert (await get(app, "/first")).text == "/first"
    assert (await get(app, "/second")).text == "/second"


async def test_deprecated_api_trigger_in_a_step_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "steps/old.step.py",
        """
        from motia import api

        config = {"name": "Old", "triggers": [api("GET", "/old")]}

        async def handler(args, ctx):
            return {"status": 200, "body": "old"}
        """,
    )
    with pytest.warns(DeprecationWarning, match=r"api\(\) is deprecated"):
        app = build(tmp_path)
    assert (await get(app, "/old")).text == "old"


BROKEN = {
    "syntax.step.py": ("x = 1\ndef handler(:\n", "syntax.step.py:2: syntax error"),
    "imports.step.py": (
        "import os\nimport not_a_real_module_xyz\n",
        "imports.step.py:2: ModuleNotFoundError: No module named 'not_a_real_module_xyz'",
    ),
    "raises.step.py": (
        "x = 1\nraise RuntimeError('boom')\n",
        "raises.step.py:2: RuntimeError: boom while importing",
    ),
    "noconfig.step.py": ("async def handler(a, c): ...\n", "noconfig.step.py: no `config` found"),
    "nohandler.step.py": (
        "from motia import http\nconfig = {'name': 'NoHandler', 'triggers': [http('GET', '/h')]}\n",
        "nohandler.step.py:2: no `handler` found; define `async def handler",
    ),
    "noname.step.py": (
        "from motia import http\n\nconfig = {'triggers': [http('GET', '/n')]}\n"
        "async def handler(a, c): ...\n",
        'noname.step.py:3: config["name"] must be a non-empty string',
    ),
    "notriggers.step.py": (
        "config = {'name': 'NoTriggers', 'triggers': []}\nasync def handler(a, c): ...\n",
        'notriggers.step.py:1: config["triggers"] is empty',
    ),
    "unknown.step.py": (
        "config = {'name': 'Unknown', 'triggers': [{'type': 'webhook'}]}\n"
        "async def handler(a, c): ...\n",
        "unknown.step.py:1: config[\"triggers\"][0] has unknown type 'webhook'",
    ),
    "method.step.py": (
        "from motia import http\nconfig = {'name': 'M', 'triggers': [http('FETCH', '/m')]}\n"
        "async def handler(a, c): ...\n",
        "method.step.py:2: config[\"triggers\"][0]: HTTP method 'FETCH' is not supported; use one",
    ),
    "path.step.py": (
        "from motia import http\nconfig = {'name': 'P', 'triggers': [http('GET', 'p')]}\n"
        "async def handler(a, c): ...\n",
        'path.step.py:2: config["triggers"][0]: path \'p\' must start with "/"',
    ),
    "nothandler.step.py": (
        "from motia import http\nconfig = {'name': 'H', 'triggers': [http('GET', '/x')]}\n"
        "handler = 3\n",
        "nothandler.step.py:3: `handler` must be a function",
    ),
}


def test_build_error_lists_every_broken_file_with_line_and_fix(tmp_path: Path) -> None:
    for name, (source, _) in BROKEN.items():
        write(tmp_path, f"steps/{name}", source)
    write(tmp_path, "steps/ok.step.py", hello("Ok", "/ok"))
    with pytest.raises(BuildError) as caught:
        build(tmp_path)
    errors = [str(e) for e in caught.value.errors]
    assert len(errors) == len(BROKEN)
    for _, expected in BROKEN.values():
        assert any(expected in error for error in errors), (expected, errors)
    assert f"({len(BROKEN)} errors)" in str(caught.value)
    for name in BROKEN:
        assert name in str(caught.value)


async def test_dev_mode_reports_errors_and_serves_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "steps/broken.step.py", "def handler(:\n")
    write(tmp_path, "steps/ok.step.py", hello("Ok", "/ok", "still here"))
    app = build(tmp_path, dev=True)
    assert len(app.errors) == 1
    assert "broken.step.py:1: syntax error" in str(app.errors[0])
    assert (await get(app, "/ok")).text == "still here"


def test_a_broken_file_does_not_stop_the_others_loading(tmp_path: Path) -> None:
    write(tmp_path, "steps/a.step.py", "raise ImportError('nope')\n")
    write(tmp_path, "steps/b.step.py", hello("B", "/b"))
    result = load_project([tmp_path / "steps"])
    assert [s.name for s in result.steps] == ["B"]
    # Neither a misspelled nor a missing module: no advice to install anything.
    assert result.errors[0].message == "ImportError: nope while importing; fix the import"
    assert result.errors[0].line == 1


def test_src_folder_is_discovered_too(tmp_path: Path) -> None:
    write(tmp_path, "steps/a.step.py", hello("A", "/a"))
    write(tmp_path, "src/b.step.py", hello("B", "/b"))
    assert sorted(s.name for s in build(tmp_path).registry.steps) == ["A", "B"]
