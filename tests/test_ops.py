import copy
import math

import pytest
from pydantic import BaseModel, Field

from motia.backends.ops import apply_ops, ensure_json
from motia.exceptions import InvalidUpdateOp, UnstorableValue


def test_set_a_key():
    assert apply_ops({"a": 1}, [{"type": "set", "path": "b", "value": [1, 2]}]) == {
        "a": 1,
        "b": [1, 2],
    }


def test_set_on_missing_value_starts_from_empty_object():
    assert apply_ops(None, [{"type": "set", "path": "a", "value": 1}]) == {"a": 1}


def test_set_with_empty_path_replaces_the_whole_value():
    assert apply_ops({"a": 1}, [{"type": "set", "path": "", "value": "x"}]) == "x"


def test_dotted_path_is_a_single_key():
    assert apply_ops({}, [{"type": "set", "path": "a.b", "value": 1}]) == {"a.b": 1}


def test_merge_is_shallow():
    current = {"a": 1, "nested": {"x": 1}}
    result = apply_ops(current, [{"type": "merge", "value": {"b": 2, "nested": {"y": 2}}}])
    assert result == {"a": 1, "b": 2, "nested": {"y": 2}}


def test_merge_into_missing_value():
    assert apply_ops(None, [{"type": "merge", "value": {"a": 1}}]) == {"a": 1}


def test_merge_with_path_merges_into_that_key():
    result = apply_ops({"k": {"a": 1}}, [{"type": "merge", "path": "k", "value": {"b": 2}}])
    assert result == {"k": {"a": 1, "b": 2}}


def test_increment_and_decrement():
    ops = [
        {"type": "increment", "path": "n", "by": 5},
        {"type": "decrement", "path": "n", "by": 2},
        {"type": "increment", "path": "f", "by": 0.5},
    ]
    result = apply_ops({"n": 10}, ops)
    assert result == {"n": 13, "f": 0.5}
    assert isinstance(result["n"], int)


def test_increment_missing_field_counts_as_zero():
    assert apply_ops(None, [{"type": "decrement", "path": "n", "by": 3}]) == {"n": -3}


def test_increment_whole_value_with_empty_path():
    assert apply_ops(41, [{"type": "increment", "path": "", "by": 1}]) == 42


def test_remove_a_key_and_a_missing_key():
    ops = [{"type": "remove", "path": "a"}, {"type": "remove", "path": "missing"}]
    assert apply_ops({"a": 1, "b": 2}, ops) == {"b": 2}


def test_ops_apply_in_order():
    ops = [
        {"type": "set", "path": "a", "value": 1},
        {"type": "increment", "path": "a", "by": 1},
        {"type": "remove", "path": "a"},
        {"type": "merge", "value": {"z": True}},
    ]
    assert apply_ops({}, ops) == {"z": True}


def test_no_ops_returns_a_copy():
    current = {"a": [1]}
    result = apply_ops(current, [])
    assert result == current and result is not current and result["a"] is not current["a"]


def test_current_value_is_never_modified():
    current = {"a": {"b": 1}, "n": 1}
    before = copy.deepcopy(current)
    apply_ops(current, [{"type": "set", "path": "c", "value": 1}])
    apply_ops(current, [{"type": "increment", "path": "n", "by": 1}])
    assert current == before


def test_op_value_is_copied_not_aliased():
    value = {"x": [1]}
    result = apply_ops({}, [{"type": "set", "path": "a", "value": value}])
    value["x"].append(2)
    assert result == {"a": {"x": [1]}}


@pytest.mark.parametrize(
    ("op", "fragment"),
    [
        ({"type": "rename", "path": "a"}, "'type' to be one of"),
        ({"path": "a", "value": 1}, "'type' to be one of"),
        ("set", "expected a dict"),
        ({"type": "set", "value": 1}, "'path' to be a str"),
        ({"type": "set", "path": 3, "value": 1}, "'path' to be a str"),
        ({"type": "set", "path": "a"}, "expected a 'value'"),
        ({"type": "set", "path": "a", "value": {1, 2}}, "'value' is not JSON"),
        ({"type": "merge", "value": [1]}, "'value' to be a dict"),
        ({"type": "merge"}, "'value' to be a dict"),
        ({"type": "merge", "path": None, "value": {}}, "'path' to be a str"),
        ({"type": "increment", "path": "n", "by": "1"}, "'by' to be an int or float"),
        ({"type": "increment", "path": "n", "by": True}, "'by' to be an int or float"),
        ({"type": "increment", "path": "n", "by": None}, "'by' to be an int or float"),
        ({"type": "increment", "path": "n"}, "'by' to be an int or float"),
        ({"type": "decrement", "path": "n", "by": math.inf}, "finite number"),
        ({"type": "decrement", "by": 1}, "'path' to be a str"),
        ({"type": "remove"}, "'path' to be a str"),
        ({"type": "remove", "path": ""}, "non-empty 'path'"),
    ],
)
def test_malformed_ops_are_refused_naming_the_index(op, fragment):
    ops = [{"type": "set", "path": "ok", "value": 1}, op]
    with pytest.raises(InvalidUpdateOp, match="op #1") as caught:
        apply_ops({"n": 1}, ops)
    assert fragment in str(caught.value)


def test_invalid_update_op_is_a_value_error():
    assert issubclass(InvalidUpdateOp, ValueError)


def test_ops_must_be_a_list():
    with pytest.raises(InvalidUpdateOp, match="must be a list"):
        apply_ops({}, {"type": "set", "path": "a", "value": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "op", "fragment"),
    [
        ({"n": "x"}, {"type": "increment", "path": "n", "by": 1}, "found a str"),
        ({"n": True}, {"type": "decrement", "path": "n", "by": 1}, "found a bool"),
        ({"n": [1]}, {"type": "increment", "path": "n", "by": 1}, "found a list"),
        ("text", {"type": "increment", "path": "", "by": 1}, "found a str"),
        ([1], {"type": "set", "path": "a", "value": 1}, "got a list"),
        (5, {"type": "merge", "value": {"a": 1}}, "got a int"),
        ({"k": 1}, {"type": "merge", "path": "k", "value": {"a": 1}}, "got a int"),
        ("text", {"type": "remove", "path": "a"}, "got a str"),
    ],
)
def test_ops_that_do_not_fit_the_current_value_are_refused(current, op, fragment):
    before = copy.deepcopy(current)
    with pytest.raises(InvalidUpdateOp, match="op #1") as caught:
        apply_ops(current, [{"type": "set", "path": "", "value": current}, op])
    assert fragment in str(caught.value)
    assert current == before


def test_a_bad_op_late_in_the_list_leaves_everything_unchanged():
    current = {"n": 1}
    ops = [{"type": "increment", "path": "n", "by": 1}, {"type": "bogus"}]
    with pytest.raises(InvalidUpdateOp, match="op #1"):
        apply_ops(current, ops)
    assert current == {"n": 1}


class Address(BaseModel):
    street_name: str = Field(alias="streetName")


class Person(BaseModel):
    name: str
    address: Address


def test_ensure_json_dumps_models_by_alias():
    person = Person(name="a", address=Address(streetName="b"))
    assert ensure_json({"p": person, "t": (1, 2)}) == {
        "p": {"name": "a", "address": {"streetName": "b"}},
        "t": [1, 2],
    }


def test_ensure_json_returns_a_deep_copy():
    value = {"a": [{"b": 1}]}
    copied = ensure_json(value)
    assert copied == value
    assert copied["a"] is not value["a"] and copied["a"][0] is not value["a"][0]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({1, 2}, "$"),
        ({"a": b"x"}, "$.a"),
        ({"a": [1, object()]}, "$.a[1]"),
        ({"a": {"b": math.nan}}, "$.a.b"),
        ([math.inf], "$[0]"),
        ({"a": {1: "x"}}, "$.a"),
    ],
)
def test_ensure_json_refuses_non_json_naming_the_path(value, path):
    with pytest.raises(UnstorableValue) as caught:
        ensure_json(value)
    assert caught.value.path == path
    assert path in str(caught.value)
    assert isinstance(caught.value, ValueError)
