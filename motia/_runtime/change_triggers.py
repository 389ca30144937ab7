"""State and stream triggers: steps that run when a stored value changes.

Changes are dispatched from the process that wrote them (the write API calls
``on_change`` in the writer's context), so with several processes each change
fires its triggers once in the whole deployment.

Loop guard: the chain of trigger steps that led to a write travels with it
(a context variable). A write never re-fires a step already in its own chain,
so a state trigger that writes state does not fire itself again, directly or
through other triggers; and a chain stops after ``MAX_CHAIN`` steps with a
warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from motia._project.step import Step
from motia._project.trigger_inputs import StateTriggerInput, StreamEvent, StreamTriggerInput
from motia._project.triggers import StateTrigger, StreamTrigger, TriggerInfo
from motia._runtime.protocol import StepHost
from motia._runtime.state import STATE_NAMESPACE
from motia._runtime.step_runs import run_step
from motia.backends.base import Change

__all__ = ["MAX_CHAIN", "ChangeTriggers"]

log = logging.getLogger("motia.triggers")
MAX_CHAIN = 8
_chain: ContextVar[tuple[str, ...]] = ContextVar("motia_trigger_chain", default=())
_STREAM_PREFIX = "stream:"


@dataclass(frozen=True, slots=True)
class _Binding:
    step: Step
    index: int
    trigger: StateTrigger | StreamTrigger


class ChangeTriggers:
    def __init__(self, runtime: StepHost, steps: list[Step]) -> None:
        self.runtime = runtime
        self.state_bindings: list[_Binding] = []
        self.stream_bindings: dict[str, list[_Binding]] = {}
        for step in steps:
            for index, trigger in enumerate(step.config.triggers):
                self._bind(_Binding(step, index, trigger))  # type: ignore[arg-type]
        self.tasks: set[asyncio.Task[None]] = set()

    def _bind(self, binding: _Binding) -> None:
        trigger = binding.trigger
        if isinstance(trigger, StateTrigger):
            self.state_bindings.append(binding)
        elif isinstance(trigger, StreamTrigger):
            self.stream_bindings.setdefault(trigger.stream_name, []).append(binding)

    def __bool__(self) -> bool:
        return bool(self.state_bindings or self.stream_bindings)

    def on_change(self, change: Change) -> None:
        for binding, input in self._matches(change):
            self._fire(binding, input)

    def _matches(self, change: Change) -> list[tuple[_Binding, Any]]:
        if change.namespace == STATE_NAMESPACE:
            if not self.state_bindings:
                return []
            state_input = StateTriggerInput(
                group_id=change.group_id,
                item_id=change.item_id,
                old_value=change.old_value,
                new_value=change.new_value,
            )
            return [(binding, state_input) for binding in self.state_bindings]
        name = change.namespace.removeprefix(_STREAM_PREFIX)
        bindings = [b for b in self.stream_bindings.get(name, []) if _selects(b.trigger, change)]
        if not bindings:
            return []
        data = change.old_value if change.kind == "delete" else change.new_value
        stream_input = StreamTriggerInput(
            timestamp=int(time.time() * 1000),
            stream_name=name,
            group_id=change.group_id,
            id=change.item_id,
            event=StreamEvent(type=change.kind, data=data),
        )
        return [(binding, stream_input) for binding in bindings]

    def _fire(self, binding: _Binding, input: Any) -> None:
        chain = _chain.get()
        name = binding.step.name
        if name in chain:
            return
        if len(chain) >= MAX_CHAIN:
            log.warning("trigger chain %s is too long; %r not fired", " -> ".join(chain), name)
            return
        token = _chain.set((*chain, name))
        try:
            task = asyncio.get_running_loop().create_task(self._run(binding, input))
        finally:
            _chain.reset(token)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, binding: _Binding, input: Any) -> None:
        info = TriggerInfo(type=binding.trigger.type, index=binding.index)
        try:
            await run_step(
                self.runtime, binding.step, info, input, condition=binding.trigger.condition
            )
        except Exception:
            log.exception("%s trigger of step %r failed", binding.trigger.type, binding.step.name)

    async def drain(self, timeout: float) -> None:
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _selects(trigger: Any, change: Change) -> bool:
    if trigger.group_id is not None and trigger.group_id != change.group_id:
        return False
    return trigger.item_id is None or trigger.item_id == change.item_id
