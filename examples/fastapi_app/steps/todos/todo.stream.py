"""The ``todo`` stream: every todo, in group ``all``, pushed live to subscribers."""

from pydantic import BaseModel

from motia.streams import StreamConfig


class Todo(BaseModel):
    id: str
    title: str
    done: bool = False


config = StreamConfig(name="todo", schema=Todo)
