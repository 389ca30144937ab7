"""The ``bench`` stream: one item per broadcast, pushed to every subscriber of its group."""

from pydantic import BaseModel

from motia.streams import StreamConfig


class Tick(BaseModel):
    id: str
    n: int
    pad: str


config = StreamConfig(name="bench", schema=Tick, base_config={"storage_type": "default"})
