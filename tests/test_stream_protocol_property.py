"""The stream-protocol parser over arbitrary frames: a frame or a ``FrameError``, nothing
else, and every answer encodes (no lone surrogate, no name over the limit echoed)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from motia._core.json import dumps
from motia._realtime.protocol import ClientFrame, error_event, parse_frame, valid_name
from motia.exceptions import FrameError

MAX_NAME = 16
NAME_KEYS = ("streamName", "groupId", "id", "subscriptionId")

# Any text at all, lone surrogates included (what a "\ud800" escape decodes to).
chars = st.characters(codec=None) | st.characters(categories=["Cs"])
texts = st.text(chars, max_size=2 * MAX_NAME)
names = st.one_of(texts, st.integers(), st.none(), st.booleans(), st.floats(), st.just(""))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
frame_data = st.dictionaries(st.sampled_from(NAME_KEYS), names) | json_values
frames = st.fixed_dictionaries(
    {}, optional={"type": st.sampled_from(["join", "leave"]) | json_values, "data": frame_data}
)


def as_text(value: Any) -> str:
    """JSON text the way a client writes it: surrogates escaped, deep nesting allowed."""
    return json.dumps(value, allow_nan=True)


def check(text: str | None) -> None:
    try:
        frame = parse_frame(text, MAX_NAME)
    except FrameError as error:
        data = error.data
        assert set(data) <= {"streamName", "groupId", "id"}
        assert all(valid_name(value, MAX_NAME) for value in data.values())
        answer = error_event(
            "INVALID_MESSAGE", str(error), *map(data.get, ("streamName", "groupId", "id"))
        )
        assert len(dumps(answer)) < 1024
        return
    assert isinstance(frame, ClientFrame) and frame.type in ("join", "leave")
    sub = frame.subscription
    for name in (sub.stream_name, sub.group_id, sub.subscription_id):
        assert valid_name(name, MAX_NAME)
    assert sub.item_id is None or valid_name(sub.item_id, MAX_NAME)
    dumps(sub.to_dict())


@settings(max_examples=400, deadline=None)
@given(frames)
def test_any_frame_shaped_value(frame: dict[str, Any]) -> None:
    check(as_text(frame))


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value(value: Any) -> None:
    check(as_text(value))


@settings(max_examples=300, deadline=None)
@given(st.text(chars, max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 20_000), st.sampled_from(["[", '{"a":', '{"type":"join","data":']))
def test_any_depth(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    check(opener * depth + "0" * (opener != "[") + closer * depth)


def test_a_binary_frame() -> None:
    check(None)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["join", "leave"]), st.lists(texts, min_size=4, max_size=4))
def test_a_well_shaped_frame_is_taken_exactly_when_its_names_are_valid(
    kind: str, values: list[str]
) -> None:
    data = dict(zip(NAME_KEYS, values, strict=True))
    valid = all(valid_name(value, MAX_NAME) for value in values)
    try:
        frame = parse_frame(as_text({"type": kind, "data": data}), MAX_NAME)
    except FrameError:
        assert not valid
        return
    assert valid
    sub = frame.subscription
    assert (sub.stream_name, sub.group_id, sub.item_id, sub.subscription_id) == tuple(values)
