"""Motia's ``motia.validator``: each check returns its problems as a list, empty when none."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from motia import StepConfig, http
from motia.validator import (
    check_schema_compatibility,
    pydantic_to_json_schema,
    validate_schema,
    validate_step,
    validate_step_config,
)


@pytest.mark.parametrize(
    ("schema", "problems"),
    [
        (["type"], ["Schema must be a dictionary"]),
        ({"title": "x"}, ["Schema should have a 'type', '$ref', 'anyOf', or 'oneOf' property"]),
        ({"type": "object", "properties": ["a"]}, ["'properties' must be a dictionary"]),
        ({"type": "object", "required": "a"}, ["'required' must be a list"]),
        ({"type": "array", "items": [{"type": "string"}]}, ["'items' must be a dictionary"]),
        ({"anyOf": [{"type": "string"}]}, []),
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, []),
        ({"type": "array", "items": {"type": "string"}}, []),
    ],
)
def test_a_schemas_top_level_shape_is_checked(schema: object, problems: list[str]) -> None:
    assert validate_schema(schema) == problems


def test_a_config_object_needs_a_name_and_a_trigger() -> None:
    assert validate_step_config(SimpleNamespace()) == ["Step config must have a 'name' property"]
    assert validate_step_config(SimpleNamespace(name="", triggers=[])) == [
        "Step name cannot be empty",
        "Step must have at least one trigger",
    ]
    assert validate_step_config(SimpleNamespace(name="ok", triggers=[http("GET", "/")])) == []


def test_a_step_config_is_checked_as_the_loader_checks_it() -> None:
    assert validate_step({"triggers": []}) == ["Field required: name"]
    assert validate_step({"name": "A", "triggers": [{"type": "bogus"}]}) == [
        "config[\"triggers\"][0] has unknown type 'bogus'; expected one of "
        "['api', 'cron', 'event', 'http', 'queue', 'state', 'stream']"
    ]
    assert validate_step(StepConfig(name="A", triggers=[http("GET", "/a")])) == []
    assert validate_step({"name": "A", "triggers": [http("GET", "/a")]}) == []


def test_a_model_gives_its_json_schema() -> None:
    class Todo(BaseModel):
        title: str

    assert pydantic_to_json_schema(Todo)["required"] == ["title"]


def test_two_schemas_of_one_topic_disagree_on_type_or_on_required_fields() -> None:
    assert check_schema_compatibility({"type": "string"}, {"type": "object"}) == [
        "Type mismatch: string vs object"
    ]
    first = {"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a", "b"]}
    second = {"type": "object", "properties": {"c": {}}, "required": ["c"]}
    assert check_schema_compatibility(first, second) == [
        "Required fields missing in second schema: ['a', 'b']",
        "Required fields missing in first schema: ['c']",
    ]
    assert check_schema_compatibility(first, first) == []
