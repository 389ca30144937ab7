"""The registry checks the steps as a whole: unique names, one step per METHOD + path."""

import textwrap
from pathlib import Path

import pytest

from motia import BuildError, Motia, http, queue, step
from motia._project.registry import normalize_path


async def noop(args, ctx):  # type: ignore[no-untyped-def]
    return None


def app_of(*definitions: object, dev: bool = False) -> Motia:
    return Motia(steps_dir=None, steps=definitions, store="memory", dev=dev)  # type: ignore[arg-type]


def test_normalize_path() -> None:
    assert normalize_path("/todo/:id/items/:item_id") == "/todo/{id}/items/{item_id}"
    assert normalize_path("/todo/{id}") == "/todo/{id}"


def test_duplicate_step_name() -> None:
    with pytest.raises(BuildError, match='duplicate step name "A"') as caught:
        app_of(step({"name": "A", "triggers": [http("GET", "/a")]}, noop),
               step({"name": "A", "triggers": [queue("t")]}, noop))  # fmt: skip
    assert "give each step a unique name" in str(caught.value)


def test_same_method_and_path_with_different_param_spelling_clash() -> None:
    with pytest.raises(BuildError) as caught:
        app_of(step({"name": "A", "triggers": [http("GET", "/a/:id")]}, noop),
               step({"name": "B", "triggers": [http("GET", "/a/{x}")]}, noop))  # fmt: skip
    (error,) = caught.value.errors
    assert 'GET /a/{x} (trigger 0) is already served by step "A"' in error.message
    assert "change the method or the path" in error.message


def test_different_methods_on_one_path_are_fine() -> None:
    app = app_of(step({"name": "A", "triggers": [http("GET", "/a/:id")]}, noop),
                 step({"name": "B", "triggers": [http("DELETE", "/a/{x}")]}, noop))  # fmt: skip
    assert [(m, p) for m, p, _, _ in app.route_table()] == [("GET", "/a/:id"), ("DELETE", "/a/{x}")]


def test_every_error_is_listed_at_once_and_dev_mode_keeps_the_rest() -> None:
    definitions = (
        step({"name": "Good", "triggers": [http("GET", "/good")]}, noop),
        step({"name": "Good", "triggers": [http("GET", "/other")]}, noop),
        step({"name": "Clash", "triggers": [http("GET", "/good")]}, noop),
        step({"name": "", "triggers": [http("GET", "/x")]}, noop),
    )
    with pytest.raises(BuildError) as caught:
        app_of(*definitions)
    assert len(caught.value.errors) == 3
    assert "cannot build the app (3 errors)" in str(caught.value)
    app = app_of(*definitions, dev=True)
    assert len(app.errors) == 3
    assert [s.name for s in app.registry.steps] == ["Good"]


def test_duplicates_across_files_name_both_files(tmp_path: Path) -> None:
    source = textwrap.dedent("""
        from motia import http
        config = {"name": "Same", "triggers": [http("GET", "/%s")]}
        async def handler(args, ctx): ...
    """)
    (tmp_path / "steps" / "x").mkdir(parents=True)
    (tmp_path / "steps" / "a.step.py").write_text(source % "a")
    (tmp_path / "steps" / "x" / "b.step.py").write_text(source % "b")
    with pytest.raises(BuildError) as caught:
        Motia(steps_dir=tmp_path / "steps", project_dir=tmp_path, store="memory")
    first, second = (str(error) for error in caught.value.errors)
    assert 'a.step.py: duplicate step name "Same"' in first and "b.step.py)" in first
    assert 'b.step.py: duplicate step name "Same"' in second and "a.step.py)" in second


def test_starlette_converters_survive_path_normalization() -> None:
    from motia._project.registry import normalize_path

    assert normalize_path("/items/{item_id:int}") == "/items/{item_id:int}"
    assert normalize_path("/todo/:id/items/:item") == "/todo/{id}/items/{item}"
