"""``FakeContext``: a ``FlowContext`` that records what a handler did, for unit tests.

State and streams are real (an in-memory store), so reads see earlier writes;
every write, ephemeral event, enqueue and log line is also recorded:

    ctx = create_test_context(streams=[todo_stream_config])
    await handler(args, ctx)
    assert ctx.enqueued == [{"topic": "todo.created", "data": {...}}]
    assert [w.kind for w in ctx.stream_writes] == ["create"]
    assert ctx.logs[0].message == "created"

No state or stream trigger fires and nothing is delivered to queue subscribers.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from motia._project.stream_config import StreamConfig
from motia._project.triggers import TriggerInfo
from motia._runtime.context import FlowContext
from motia._runtime.logs import StepLogger
from motia._runtime.state import STATE_NAMESPACE, StateManager
from motia._runtime.streams import Stream, Streams, stream_namespace
from motia.backends.base import Change, Ephemeral, FeedMessage
from motia.backends.memory import MemoryStore
from motia.backends.ops import JSON, ensure_json
from motia.exceptions import EnqueueError, UnstorableValue

__all__ = [
    "FakeContext",
    "LogEntry",
    "RecordingLogger",
    "SentEvent",
    "Write",
    "create_test_context",
]

_STREAM_PREFIX = stream_namespace("")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One ``ctx.logger`` call; ``level`` is ``debug``, ``info``, ``warning`` or ``error``."""

    level: str
    message: str
    data: Any = None
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class Write:
    """One state or stream write; ``stream`` is None for state."""

    kind: str
    group_id: str
    item_id: str
    old_value: JSON | None
    new_value: JSON | None
    stream: str | None = None


@dataclass(frozen=True, slots=True)
class SentEvent:
    """One ephemeral ``stream.send(...)``."""

    stream: str
    group_id: str
    id: str | None
    type: str
    data: JSON


class RecordingLogger(StepLogger):
    """A ``StepLogger`` that also keeps every call in ``entries``."""

    __slots__ = ("entries",)

    def __init__(self, step: str | None = None, trace_id: str | None = None) -> None:
        super().__init__(step, trace_id)
        self.entries: list[LogEntry] = []

    def exception(self, message: str, data: Any = None) -> None:
        self.entries.append(LogEntry("error", message, data, sys.exc_info()[1]))
        super().exception(message, data)

    def _log(self, level: int, message: str, data: Any) -> None:
        name = {10: "debug", 20: "info", 30: "warning"}.get(level, "error")
        self.entries.append(LogEntry(name, message, data))
        super()._log(level, message, data)


class _TestStreams(Streams):
    """Streams from the given configs; other names become schemaless streams on first use."""

    def __init__(self, configs: Iterable[StreamConfig], store: MemoryStore, auto: bool) -> None:
        super().__init__({config.name: Stream(config, store) for config in configs}, store=store)
        self._memory = store
        self._auto = auto

    def __getitem__(self, name: str) -> Stream:
        self._ensure(name)
        return super().__getitem__(name)

    def __getattr__(self, name: str) -> Stream:
        if not name.startswith("_"):
            self._ensure(name)
        return super().__getattr__(name)

    def _ensure(self, name: str) -> None:
        if self._auto and name not in self:
            self._streams[name] = Stream(StreamConfig(name), self._memory)


class FakeContext(FlowContext[Any]):
    """A context that records what a handler did. ``streams``: configs (or names) of the
    streams the handler uses; with ``auto_streams`` any other name is a schemaless stream
    on first use."""

    def __init__(
        self,
        *,
        streams: Iterable[StreamConfig | dict[str, Any] | str] = (),
        auto_streams: bool = True,
        trigger: TriggerInfo | None = None,
        trace_id: str = "test-trace-id",
        step_name: str = "test-step",
        input_value: Any = None,
    ) -> None:
        self.store = MemoryStore()
        self.enqueued: list[dict[str, Any]] = []
        self.state_writes: list[Write] = []
        self.stream_writes: list[Write] = []
        self.stream_events: list[SentEvent] = []
        configs = [_stream_config(value) for value in streams]
        super().__init__(
            trace_id=trace_id,
            trigger=trigger or TriggerInfo(type="http"),
            step_name=step_name,
            logger=RecordingLogger(step_name, trace_id),
            enqueuer=self._enqueue,
            state=StateManager(self.store),
            streams=_TestStreams(configs, self.store, auto_streams),
            input_value=input_value,
        )
        self.store.feed.subscribe(self._record)

    @property
    def logs(self) -> list[LogEntry]:
        logger: RecordingLogger = self.logger  # type: ignore[assignment]
        return logger.entries

    def enqueued_to(self, topic: str) -> list[Any]:
        """The ``data`` of every message enqueued to ``topic``, in order."""
        return [event.get("data") for event in self.enqueued if event["topic"] == topic]

    async def _enqueue(self, event: Any, ctx: Any) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("topic"), str):
            raise EnqueueError(
                'enqueue() takes {"topic": "name", "data": {...}, "messageGroupId": optional}, '
                f"got {event!r}"
            )
        try:
            data = ensure_json(event.get("data"))
        except UnstorableValue as exc:
            raise EnqueueError(
                f'data for topic "{event["topic"]}" cannot be queued: {exc}'
            ) from None
        self.enqueued.append({**event, "data": data})

    def _record(self, message: FeedMessage) -> None:
        if isinstance(message, Ephemeral):
            name = message.namespace.removeprefix(_STREAM_PREFIX)
            self.stream_events.append(
                SentEvent(name, message.group_id, message.item_id, message.event_type, message.data)
            )
        elif not isinstance(message, Change):
            return
        elif message.namespace == STATE_NAMESPACE:
            self.state_writes.append(_write(message, None))
        else:
            self.stream_writes.append(
                _write(message, message.namespace.removeprefix(_STREAM_PREFIX))
            )


create_test_context = FakeContext
"""``create_test_context(streams=..., trace_id=...)``: the same as ``FakeContext(...)``."""


def _stream_config(value: StreamConfig | dict[str, Any] | str) -> StreamConfig:
    return StreamConfig(value) if isinstance(value, str) else StreamConfig.from_value(value)


def _write(change: Change, stream: str | None) -> Write:
    return Write(
        change.kind, change.group_id, change.item_id, change.old_value, change.new_value, stream
    )
