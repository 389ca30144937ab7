"""The one JSON policy (motia._core.json): exact bytes, models by alias, no NaN."""

import datetime

import pytest
from pydantic import BaseModel, Field

from motia._core.json import dumps, dumps_bytes, dumps_lenient, loads, may_not_be_finite


class Item(BaseModel):
    group_id: str = Field(alias="groupId")


def test_compact_utf8_text_as_is() -> None:
    assert dumps_bytes({"a": [1, 2.5, None, True], "s": "é ✓"}) == (
        '{"a":[1,2.5,null,true],"s":"é ✓"}'.encode()
    )


def test_models_by_alias_at_any_depth() -> None:
    assert dumps({"items": [Item(groupId="g")]}) == '{"items":[{"groupId":"g"}]}'
    assert dumps(Item(groupId="g")) == '{"groupId":"g"}'


def test_values_a_model_would_dump_go_out_as_their_json_form() -> None:
    assert dumps(datetime.date(2026, 1, 2)) == '"2026-01-02"'


@pytest.mark.parametrize("value", [float("nan"), {"x": [float("inf")]}, -float("inf")])
def test_nan_and_infinity_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="NaN and Infinity are not JSON"):
        dumps_bytes(value)


def test_the_words_nan_and_infinity_in_text_are_fine() -> None:
    assert dumps({"NaN": "Infinity"}) == '{"NaN":"Infinity"}'


def test_what_is_not_json_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        dumps(object())


def test_lenient_never_raises() -> None:
    assert dumps_lenient({"n": float("nan"), "o": Item(groupId="g")}) == (
        '{"n":NaN,"o":{"groupId":"g"}}'
    )


@pytest.mark.parametrize(
    "raw",
    [b"NaN", b'{"a":Infinity}', b"[-Infinity]", b'{"a":1e999}', b"[-1E+400]", b"1" * 400 + b".5"],
)
def test_loads_refuses_what_is_not_a_finite_json_number(raw: bytes) -> None:
    assert may_not_be_finite(raw)
    with pytest.raises(ValueError):
        loads(raw)


def test_loads_reads_large_but_finite_numbers_and_the_words_in_text() -> None:
    assert loads(b'[1e308, -1.5e-999, "NaN 1e999"]') == [1e308, -0.0, "NaN 1e999"]
    assert loads(b"1" * 400) == int("1" * 400)  # an integer is exact, never infinite


def test_may_not_be_finite_says_no_for_ordinary_json() -> None:
    assert not may_not_be_finite(b'{"name":"widget","price":9.5,"n":[1,2e10]}')
