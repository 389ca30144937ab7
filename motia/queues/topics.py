"""Who subscribes to and who enqueues each topic, and the build-time checks on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from motia._project.config import Enqueue, StepConfig
from motia._project.queue_config import QueueConfig
from motia._project.schema import Schema, compile_schema
from motia._project.step import Step
from motia._project.triggers import QueueTrigger
from motia.backends.queue import Subscriber

__all__ = ["Subscription", "declared_topics", "subscriptions", "topic_warnings"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """One queue trigger of one step, with its settings resolved and its input compiled."""

    step: Step
    index: int
    trigger: QueueTrigger
    config: QueueConfig
    schema: Schema | None

    @property
    def topic(self) -> str:
        return self.trigger.topic

    @property
    def subscriber(self) -> Subscriber:
        return Subscriber(self.step.name, self.index)

    @property
    def fifo(self) -> bool:
        return self.config.type == "fifo"


def subscriptions(steps: Iterable[Step]) -> list[Subscription]:
    return [
        Subscription(
            step=step,
            index=index,
            trigger=trigger,
            config=trigger.config or QueueConfig(),
            schema=compile_schema(trigger.input) if trigger.input is not None else None,
        )
        for step in steps
        for index, trigger in enumerate(step.config.triggers)
        if isinstance(trigger, QueueTrigger)
    ]


def declared_topics(config: StepConfig) -> set[str]:
    """The topics a step says it enqueues to (``enqueues`` and ``virtual_enqueues``)."""
    return {_topic(e) for e in [*config.enqueues, *config.virtual_enqueues]}


def topic_warnings(steps: Iterable[Step]) -> list[str]:
    """A topic enqueued with no subscriber, or subscribed with no sender, names its steps."""
    senders: dict[str, list[str]] = defaultdict(list)
    receivers: dict[str, list[str]] = defaultdict(list)
    for step in steps:
        for topic in sorted(declared_topics(step.config)):
            senders[topic].append(step.name)
        subscribed = {t.topic for t in step.config.triggers if isinstance(t, QueueTrigger)}
        for topic in sorted(subscribed | set(step.config.virtual_subscribes)):
            receivers[topic].append(step.name)
    unheard = [
        f'topic "{topic}" is enqueued by {_names(names)} but no step subscribes to it'
        for topic, names in senders.items()
        if topic not in receivers
    ]
    unfed = [
        f'topic "{topic}" is subscribed to by {_names(names)} but no step enqueues it'
        for topic, names in receivers.items()
        if topic not in senders
    ]
    return unheard + unfed


def _topic(value: str | Enqueue) -> str:
    return value if isinstance(value, str) else value.topic


def _names(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)
