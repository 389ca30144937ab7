"""Motia's ``motia.types_stream`` import path: stream config and stream auth types."""

from pydantic import BaseModel

from motia._project.stream_config import StreamConfig
from motia._realtime.access import StreamAuthRequest, StreamAuthResult

__all__ = ["StreamAuthInput", "StreamAuthResult", "StreamConfig", "StreamSubscription"]

StreamAuthInput = StreamAuthRequest
"""What a stream auth hook sees: ``headers``, ``path``, ``query_params``, ``addr``."""


class StreamSubscription(BaseModel):
    """Motia's subscription model: ``group_id`` and the item ``id`` (None for a group).

    Hooks here receive the runtime's own subscription, which has both attributes too.
    """

    group_id: str
    id: str | None = None
