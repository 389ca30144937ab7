"""Step configs: dict or StepConfig, snake_case or camelCase, and clear errors."""

import warnings

import pytest
from pydantic import BaseModel

from motia import StepConfig, api, cron, http, queue
from motia._project.config import Enqueue, parse_step_config
from motia._project.triggers import HttpTrigger
from motia.exceptions import ConfigError


class Item(BaseModel):
    name: str


def test_dict_and_step_config_give_the_same_result() -> None:
    as_dict = parse_step_config({"name": "A", "triggers": [http("GET", "/a")], "flows": ["f"]})
    as_obj = parse_step_config(StepConfig(name="A", triggers=[http("GET", "/a")], flows=["f"]))
    assert as_dict == as_obj
    assert as_dict.flows == ["f"]


def test_camel_case_and_snake_case_keys() -> None:
    camel = parse_step_config(
        {
            "name": "A",
            "triggers": [
                {"type": "http", "method": "post", "path": "/a", "bodySchema": Item},
                {"type": "queue", "topic": "t", "config": {"maxRetries": 7}},
            ],
            "virtualEnqueues": ["x"],
            "includeFiles": ["f.txt"],
        }
    )
    snake = parse_step_config(
        {
            "name": "A",
            "triggers": [
                {"type": "http", "method": "post", "path": "/a", "body_schema": Item},
                {"type": "queue", "topic": "t", "config": {"max_retries": 7}},
            ],
            "virtual_enqueues": ["x"],
            "include_files": ["f.txt"],
        }
    )
    assert camel == snake
    trigger = camel.triggers[0]
    assert isinstance(trigger, HttpTrigger)
    assert (trigger.method, trigger.body_schema) == ("POST", Item)
    assert camel.triggers[1].config.max_retries == 7  # type: ignore[union-attr]
    assert camel.virtual_enqueues == ["x"]
    assert camel.include_files == ["f.txt"]


def test_enqueues_accept_topics_and_dicts() -> None:
    config = parse_step_config(
        {
            "name": "A",
            "triggers": [cron("*/5 * * * *")],
            "enqueues": ["a", {"topic": "b", "label": "B", "conditional": True}],
        }
    )
    assert config.enqueues == ["a", Enqueue("b", "B", True)]
    assert config.enqueue_topics == ["a", "b"]


def test_api_is_a_deprecated_alias_of_http() -> None:
    with pytest.warns(DeprecationWarning, match="http"):
        trigger = api("GET", "/x")
    assert trigger == http("GET", "/x")


def test_http_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        http("GET", "/x")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("nope", "config must be a dict or StepConfig"),
        ({"triggers": [http("GET", "/a")]}, 'config["name"] must be a non-empty string'),
        ({"name": "  ", "triggers": [http("GET", "/a")]}, "add a unique name"),
        ({"name": "A"}, 'config["triggers"] must be a list of triggers, got nothing'),
        ({"name": "A", "triggers": []}, "needs at least one trigger"),
        ({"name": "A", "triggers": ["GET /a"]}, "is not a trigger"),
        ({"name": "A", "triggers": [{"type": "webhook"}]}, "unknown type 'webhook'"),
        ({"name": "A", "triggers": [http("FETCH", "/a")]}, "HTTP method 'FETCH' is not supp"),
        ({"name": "A", "triggers": [http("GET", "a")]}, 'must start with "/"'),
        ({"name": "A", "triggers": [http("GET", "/a", body_schema=int)]}, "pydantic model"),
        ({"name": "A", "triggers": [cron("* * *")]}, "must have 5 fields"),
        ({"name": "A", "triggers": [queue("")]}, "topic must be a non-empty string"),
        ({"name": "A", "triggers": [http("GET", "/a")], "colour": 1}, "unknown key"),
    ],
)
def test_errors_say_what_is_expected(config: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_step_config(config)


def test_every_http_method_is_accepted() -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
        config = parse_step_config({"name": "A", "triggers": [http(method.lower(), "/a")]})
        assert config.triggers[0].method == method  # type: ignore[union-attr]


def test_query_params_must_be_names_or_name_dicts() -> None:
    good = [http("GET", "/a", query_params=["q", {"name": "page", "description": "n"}])]
    assert parse_step_config({"name": "A", "triggers": good}).triggers[0].query_params
    with pytest.raises(ConfigError, match=r"query_params must be a list of names"):
        parse_step_config({"name": "A", "triggers": [http("GET", "/a", query_params=[{"x": 1}])]})
