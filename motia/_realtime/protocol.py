"""Client frames of the stream protocol (``join`` / ``leave``) and the error events sent back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from motia._realtime.access import StreamSubscription
from motia.exceptions import FrameError

__all__ = ["ClientFrame", "error_event", "parse_frame"]

_SHAPE = (
    '{"type": "join" | "leave", "data": {"streamName": str, "groupId": str, '
    '"id"?: str, "subscriptionId": str}}'
)


@dataclass(frozen=True, slots=True)
class ClientFrame:
    type: Literal["join", "leave"]
    subscription: StreamSubscription


def parse_frame(text: str | None) -> ClientFrame:
    if text is None:
        raise FrameError("binary frames are not supported; send JSON text")
    try:
        frame = json.loads(text)
    except ValueError:
        raise FrameError(f"a frame must be JSON like {_SHAPE}") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("data"), dict):
        raise FrameError(f"a frame must look like {_SHAPE}")
    kind, data = frame.get("type"), frame["data"]
    if kind not in ("join", "leave"):
        raise FrameError(f"unknown frame type {kind!r}; expected 'join' or 'leave'", data)
    return ClientFrame(kind, _subscription(data))


def _subscription(data: dict[str, Any]) -> StreamSubscription:
    fields = {key: data.get(key) for key in ("streamName", "groupId", "subscriptionId")}
    item_id = data.get("id")
    wrong = [key for key, value in fields.items() if not isinstance(value, str) or not value]
    if item_id is not None and not isinstance(item_id, str):
        wrong.append("id")
    if wrong:
        raise FrameError(f"bad or missing {', '.join(wrong)} in frame; expected {_SHAPE}", data)
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
