"""What state and stream triggers hand to their handlers (camelCase aliases accepted)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = ["StateTriggerInput", "StreamEvent", "StreamTriggerInput"]

_CONFIG = ConfigDict(populate_by_name=True, serialize_by_alias=True)


def _either(name: str, camel: str, **default: Any) -> Any:
    return Field(validation_alias=AliasChoices(name, camel), serialization_alias=camel, **default)


class StateTriggerInput(BaseModel):
    model_config = _CONFIG

    type: Literal["state"] = "state"
    group_id: str = _either("group_id", "groupId")
    item_id: str = _either("item_id", "itemId")
    old_value: Any = _either("old_value", "oldValue", default=None)
    new_value: Any = _either("new_value", "newValue", default=None)


class StreamEvent(BaseModel):
    type: Literal["create", "update", "delete"]
    data: Any = None


class StreamTriggerInput(BaseModel):
    model_config = _CONFIG

    type: Literal["stream"] = "stream"
    timestamp: int
    stream_name: str = _either("stream_name", "streamName")
    group_id: str = _either("group_id", "groupId")
    id: str
    event: StreamEvent
