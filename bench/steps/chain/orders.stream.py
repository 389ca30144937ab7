"""The ``orders`` stream: every processed order with the running total, in group ``all``."""

from pydantic import BaseModel

from motia.streams import StreamConfig


class ProcessedOrder(BaseModel):
    id: str
    item: str
    qty: int
    total: int


config = StreamConfig(name="orders", schema=ProcessedOrder, base_config={"storage_type": "default"})
