"""The ``inbox`` stream: in group ``watching``, one item per todo group counting its watchers."""

from pydantic import BaseModel

from motia import StreamConfig


class Inbox(BaseModel):
    id: str
    watching: int = 0


config = StreamConfig(name="inbox", schema=Inbox, base_config={"storage_type": "default"})
