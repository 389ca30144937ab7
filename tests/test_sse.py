"""SSE frame encoding and the parser, checked against the WHATWG event-stream rules."""

import pytest

from motia.sse import PING, ServerSentEvent, SSEParser, encode_event, encode_frame


def parse(data: bytes) -> list[ServerSentEvent]:
    return SSEParser().feed(data)


def parse_bytewise(data: bytes) -> list[ServerSentEvent]:
    parser = SSEParser()
    events: list[ServerSentEvent] = []
    for i in range(len(data)):
        events.extend(parser.feed(data[i : i + 1]))
    return events


def test_encode_full_frame() -> None:
    frame = encode_event("hi", event="greet", id=7, retry=1500)
    assert frame == b"event: greet\nid: 7\nretry: 1500\ndata: hi\n\n"


def test_encode_multiline_data_becomes_several_data_lines() -> None:
    assert encode_event("a\nb\r\nc") == b"data: a\ndata: b\ndata: c\n\n"


def test_encode_lone_cr_in_data_does_not_end_the_line_early() -> None:
    (event,) = parse(encode_event("a\rb"))
    assert event.data == "a\nb"


def test_encode_non_str_data_is_json() -> None:
    (event,) = parse(encode_event({"n": 1, "s": "é"}))
    assert event.json() == {"n": 1, "s": "é"}
    assert encode_event([1, 2]) == b"data: [1,2]\n\n"


@pytest.mark.parametrize("field", ["event", "id"])
@pytest.mark.parametrize("bad", ["a\nb", "a\rb"])
def test_encode_rejects_cr_lf_in_event_and_id(field: str, bad: str) -> None:
    with pytest.raises(ValueError, match="CR or LF"):
        encode_event("x", **{field: bad})  # type: ignore[arg-type]


@pytest.mark.parametrize("retry", [-1, 1.5, True])
def test_encode_rejects_bad_retry(retry: object) -> None:
    with pytest.raises(ValueError, match="retry"):
        encode_event("x", retry=retry)  # type: ignore[arg-type]


def test_the_same_text_sent_again_is_encoded_for_what_else_changed() -> None:
    text = "".join(["same ", "text"])  # one object, as a broadcast hands every subscriber
    first = encode_frame(text, "news", None, None)
    assert first == b"event: news\ndata: same text\n\n"
    assert encode_frame(text, "news", None, None) == first
    assert encode_frame(text, "other", None, None) == b"event: other\ndata: same text\n\n"
    assert encode_frame(text, "other", 3, None) == b"event: other\nid: 3\ndata: same text\n\n"
    assert encode_frame(text, "other", None, 10) == b"event: other\nretry: 10\ndata: same text\n\n"
    assert encode_frame(text, None, None, None) == b"data: same text\n\n"
    assert encode_frame(None, None, None, None) == b"\n"
    assert encode_frame("".join(["new ", "text"]), "other", None, None) == (
        b"event: other\ndata: new text\n\n"
    )


def test_ping_is_a_comment_without_id() -> None:
    assert PING == b": ping\n\n"
    parser = SSEParser()
    assert parser.feed(PING) == []
    assert parser.last_event_id is None


def test_round_trip() -> None:
    frame = encode_event({"k": [1, 2]}, event="item", id="abc")
    (event,) = parse(frame)
    assert (event.event, event.id, event.json()) == ("item", "abc", {"k": [1, 2]})


STREAM = (
    "\ufeffdata: first\r\n\r\n"
    ": a comment\n"
    "event: custom\rid: 42\rdata: line1\rdata:line2\r\r"
    "data\n\n"
    "data:  two spaces\n\n"
    "retry: 300\ndata: r\n\n"
).encode()
EXPECTED = [
    ServerSentEvent("first", "message", None),
    ServerSentEvent("line1\nline2", "custom", "42"),
    ServerSentEvent("", "message", "42"),
    ServerSentEvent(" two spaces", "message", "42"),
    ServerSentEvent("r", "message", "42", 300),
]


def test_parser_line_endings_bom_comments_and_fields() -> None:
    assert parse(STREAM) == EXPECTED


def test_parser_same_events_when_split_at_every_byte_boundary() -> None:
    for cut in range(len(STREAM) + 1):
        parser = SSEParser()
        events = parser.feed(STREAM[:cut]) + parser.feed(STREAM[cut:])
        assert events == EXPECTED, cut
    assert parse_bytewise(STREAM) == EXPECTED


def test_parser_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n\r\n") == [ServerSentEvent("a")]


def test_parser_multibyte_utf8_split() -> None:
    assert parse_bytewise("data: héllo ✓\n\n".encode()) == [ServerSentEvent("héllo ✓")]


def test_parser_bom_only_stripped_at_start() -> None:
    assert parse(b"\xef\xbb\xbfdata: x\n\n")[0].data == "x"
    parser = SSEParser()
    parser.feed(b"data: x\n\n")
    # A later BOM is part of the field name, so the line is ignored.
    assert parser.feed("\ufeffdata: y\n\n".encode()) == []


def test_parser_id_with_nul_is_ignored() -> None:
    events = parse(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_parser_empty_id_resets_last_event_id() -> None:
    events = parse(b"id: 1\ndata: a\n\nid\ndata: b\n\n")
    assert [e.id for e in events] == ["1", ""]


def test_parser_retry_digits_only() -> None:
    events = parse(b"retry: 12a\ndata: a\n\nretry: -5\ndata: b\n\nretry: 0\ndata: c\n\n")
    assert [e.retry for e in events] == [None, None, 0]


def test_parser_retry_unicode_digits_are_not_digits() -> None:
    (event,) = parse("retry: ١٢\ndata: a\n\n".encode())
    assert event.retry is None


def test_parser_event_without_data_is_not_dispatched_and_type_resets() -> None:
    events = parse(b"event: lonely\n\ndata: x\n\n")
    assert events == [ServerSentEvent("x", "message")]


def test_parser_unknown_fields_ignored_and_incomplete_event_pending() -> None:
    parser = SSEParser()
    assert parser.feed(b"foo: bar\ndata: a\n") == []
    assert parser.feed(b"\n") == [ServerSentEvent("a")]
    assert parser.feed(b"data: unfinished") == []
