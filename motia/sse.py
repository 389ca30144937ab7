"""Server-Sent Events: frame encoding, and a parser that reads as EventSource does.

The parser follows the WHATWG "event stream interpretation" rules: CRLF, LF
and CR line endings, one optional space after the colon, ``data`` lines
joined with LF, ``id`` values containing NUL ignored, ``retry`` digits only,
an event dispatched on a blank line, comments ignored.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from motia._core.json import dumps

__all__ = ["PING", "SSEParser", "ServerSentEvent", "encode_event", "encode_frame"]

PING = b": ping\n\n"


def encode_event(
    data: Any = None,
    *,
    event: str | None = None,
    id: str | int | None = None,
    retry: int | None = None,
) -> bytes:
    """One SSE frame. Non-str data is JSON-encoded; multi-line data becomes several lines."""
    return encode_frame(data, event, id, retry)


_last_frame: tuple[object, object, bytes] = (object(), None, b"")
"""The text, event and frame of the last usual frame: a broadcast hands every subscriber the
same text, which is encoded once."""


def encode_frame(data: Any, event: str | None, id: str | int | None, retry: int | None) -> bytes:
    """``encode_event`` with its arguments in order, for the paths that send every frame."""
    global _last_frame
    last_data, last_event, frame = _last_frame
    if data is last_data and event is last_event and id is None and retry is None:
        return frame
    if (
        id is None
        and retry is None
        and type(data) is str
        and type(event) is str
        and not ("\n" in data or "\r" in data or "\n" in event or "\r" in event)
    ):
        frame = f"event: {event}\ndata: {data}\n\n".encode()  # the usual frame, at once
        _last_frame = (data, event, frame)
        return frame
    head = "" if event is None else f"event: {_single_line('event', event)}\n"
    if id is not None:
        head += f"id: {_single_line('id', str(id))}\n"
    if retry is not None:
        if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
            raise ValueError(f"retry must be a non-negative integer (milliseconds), got {retry!r}")
        head += f"retry: {retry}\n"
    if data is None:
        return f"{head}\n".encode()
    text = data if isinstance(data, str) else dumps(data)
    if "\n" in text or "\r" in text:
        lines = "".join(f"data: {line}\n" for line in _lines(text))
        return f"{head}{lines}\n".encode()
    return f"{head}data: {text}\n\n".encode()


def _lines(text: str) -> list[str]:
    # A lone CR ends a line for the reader too, so it must become its own data line.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _single_line(field: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"SSE {field} must not contain CR or LF: {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str = ""
    event: str = "message"
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SSEParser:
    """Feed bytes in any chunking; iterate the events completed so far."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = _Utf8Decoder()
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self.last_event_id: str | None = None
        self._started = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._decoder.decode(chunk)
        if not self._started and text:
            text = text.removeprefix("\ufeff")
            self._started = True
        self._buffer += text
        return list(self._complete_lines())

    def _complete_lines(self) -> Iterator[ServerSentEvent]:
        while True:
            line, rest, found = _split_line(self._buffer)
            if not found:
                return
            self._buffer = rest
            event = self._process(line)
            if event is not None:
                yield event

    def _process(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry = [], "", None
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or "message", self.last_event_id, retry)


def _split_line(buffer: str) -> tuple[str, str, bool]:
    lf, cr = buffer.find("\n"), buffer.find("\r")
    if cr == -1 or (lf != -1 and lf < cr):
        if lf == -1:
            return "", buffer, False
        return buffer[:lf], buffer[lf + 1 :], True
    if cr + 1 == len(buffer):
        return "", buffer, False  # a CR at the end may be half of a CRLF
    skip = 2 if buffer[cr + 1] == "\n" else 1
    return buffer[:cr], buffer[cr + skip :], True


class _Utf8Decoder:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def decode(self, chunk: bytes) -> str:
        return self._decoder.decode(chunk)
