"""Motia 1.0 import paths and helpers keep working."""

from __future__ import annotations

import importlib

import pytest
from pydantic import BaseModel

from motia import cron, http, queue, state, step, stream
from motia._project.config import parse_step_config
from motia._project.step import Step


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("motia.triggers", ["http", "api", "queue", "cron", "state", "stream"]),
        ("motia.types", ["StepConfig", "Step", "TriggerInfo", "FlowContext", "ApiRequest",
                         "ApiResponse", "QueueConfig", "StateTrigger", "StateTriggerInput",
                         "StreamTrigger", "StreamTriggerInput", "StreamEvent"]),
        ("motia.step", ["step", "StepBuilder", "StepDefinition"]),
        ("motia.multi_trigger", ["multi_trigger_step", "MultiTriggerStepBuilder"]),
        ("motia.guards", ["is_api_trigger", "is_queue_step", "get_cron_triggers"]),
        ("motia.schema_utils", ["schema_to_json_schema"]),
    ],
)  # fmt: skip
def test_import_paths(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    for name in names:
        assert hasattr(imported, name), f"{module}.{name}"


def make_step() -> Step:
    config = parse_step_config(
        {"name": "Multi", "triggers": [http("GET", "/x"), queue("t"), cron("* * * * *"), state(),
                                       stream("todo")]}
    )  # fmt: skip
    return Step(config, lambda: None)


def test_guards_classify_triggers_and_steps() -> None:
    from motia import guards

    multi = make_step()
    http_trigger, queue_trigger, *_ = multi.config.triggers
    assert guards.is_api_trigger(http_trigger) and not guards.is_api_trigger(queue_trigger)
    assert guards.is_queue_trigger(queue_trigger)
    for kind in ("api", "http", "queue", "event", "cron", "state", "stream"):
        assert getattr(guards, f"is_{kind}_step")(multi)
    assert [t.expression for t in guards.get_cron_triggers(multi)] == ["* * * * *"]
    assert [t.stream_name for t in guards.get_stream_triggers(multi)] == ["todo"]
    only_http = Step(parse_step_config({"name": "H", "triggers": [http("GET", "/")]}), print)
    assert not guards.is_queue_step(only_http) and guards.get_queue_triggers(only_http) == []


def test_schema_to_json_schema_takes_models_and_dicts() -> None:
    from motia.schema_utils import schema_to_json_schema

    class Todo(BaseModel):
        title: str

    assert schema_to_json_schema(Todo)["required"] == ["title"]
    assert schema_to_json_schema({"type": "string"}) == {"type": "string"}
    assert schema_to_json_schema(None) is None


def test_trigger_inputs_accept_both_spellings_and_dump_camel_case() -> None:
    from motia.types import StateTriggerInput, StreamTriggerInput

    snake = StateTriggerInput(group_id="g", item_id="i", old_value=1, new_value=2)
    camel = StateTriggerInput.model_validate({"groupId": "g", "itemId": "i", "oldValue": 1,
                                              "newValue": 2})  # fmt: skip
    assert snake == camel
    assert snake.model_dump() == {"type": "state", "groupId": "g", "itemId": "i", "oldValue": 1,
                                  "newValue": 2}  # fmt: skip
    event = StreamTriggerInput.model_validate(
        {"timestamp": 1, "streamName": "todo", "groupId": "g", "id": "x",
         "event": {"type": "create", "data": {"id": "x"}}}
    )  # fmt: skip
    assert event.stream_name == "todo" and event.event.type == "create"


def test_step_forms() -> None:
    def handler(args: object) -> None: ...

    built = step({"name": "A", "triggers": [http("GET", "/a")]}).handle(handler)
    assert built.handler is handler
    assert step({"name": "A", "triggers": []}, handler).handler is handler
