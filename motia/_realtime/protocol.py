"""Client frames of the stream protocol (``join`` / ``leave``) and the error events sent back.

``parse_frame`` either returns a ``ClientFrame`` or raises ``FrameError``, whatever
the text: not JSON, nested too deeply to parse, the wrong shape, an unknown type,
a name that is not a string, empty, longer than the limit or not valid Unicode (a
lone surrogate escape). The error carries only the names that are safe to echo in
the ``INVALID_MESSAGE`` event that answers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from motia._realtime.access import StreamSubscription
from motia.exceptions import FrameError

__all__ = ["ClientFrame", "error_event", "parse_frame", "valid_name"]

_SHAPE = (
    '{"type": "join" | "leave", "data": {"streamName": str, "groupId": str, '
    '"id"?: str, "subscriptionId": str}}'
)
_ADDRESS = ("streamName", "groupId", "id")
_SHOWN = 40  # characters of an unknown frame type quoted back


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: Literal["join", "leave"]
    subscription: StreamSubscription


def parse_frame(text: str | None, max_name: int) -> ClientFrame:
    """The frame in ``text``; names longer than ``max_name`` characters are refused."""
    if text is None:
        raise FrameError("binary frames are not supported; send JSON text")
    try:
        frame = json.loads(text)
    except ValueError:
        raise FrameError(f"a frame must be JSON like {_SHAPE}") from None
    except RecursionError:
        raise FrameError("a frame must not nest this deeply; send a flat join or leave") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("data"), dict):
        raise FrameError(f"a frame must look like {_SHAPE}")
    kind, data = frame.get("type"), frame["data"]
    address = _address(data, max_name)
    if kind not in ("join", "leave"):
        shown = repr(kind)[:_SHOWN]
        raise FrameError(f"unknown frame type {shown}; expected 'join' or 'leave'", address)
    return ClientFrame(kind, _subscription(data, max_name, address))


def valid_name(value: Any, max_name: int) -> bool:
    """A non-empty string of at most ``max_name`` characters that encodes as UTF-8."""
    if not isinstance(value, str) or not 0 < len(value) <= max_name:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate, from a "\\ud800" escape
        return False
    return True


def _address(data: dict[str, Any], max_name: int) -> dict[str, Any]:
    """The names of ``data`` that may be quoted back to the client."""
    return {key: data[key] for key in _ADDRESS if valid_name(data.get(key), max_name)}


def _subscription(
    data: dict[str, Any], max_name: int, address: dict[str, Any]
) -> StreamSubscription:
    fields = {key: data.get(key) for key in ("streamName", "groupId", "subscriptionId")}
    item_id = data.get("id")
    wrong = [key for key, value in fields.items() if not valid_name(value, max_name)]
    if item_id is not None and not valid_name(item_id, max_name):
        wrong.append("id")
    if wrong:
        raise FrameError(
            f"bad or missing {', '.join(wrong)} in frame (each a non-empty string of at most "
            f"{max_name} characters); expected {_SHAPE}",
            address,
        )
    return StreamSubscription(
        stream_name=fields["streamName"],  # type: ignore[arg-type]
        group_id=fields["groupId"],  # type: ignore[arg-type]
        item_id=item_id,
        subscription_id=fields["subscriptionId"],  # type: ignore[arg-type]
    )


def error_event(
    code: str,
    message: str,
    stream_name: Any = None,
    group_id: Any = None,
    item_id: Any = None,
) -> dict[str, Any]:
    """An ephemeral ``error`` event, addressed like the subscription it is about."""
    payload: dict[str, Any] = {}
    if isinstance(stream_name, str):
        payload["streamName"] = stream_name
    if isinstance(group_id, str):
        payload["groupId"] = group_id
    if isinstance(item_id, str):
        payload["id"] = item_id
    payload["event"] = {
        "type": "event",
        "event": {"type": "error", "data": {"code": code, "message": message}},
    }
    return payload
