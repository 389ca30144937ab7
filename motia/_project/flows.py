"""Flows: which steps belong together and the topics that connect them.

A step belongs to every flow in its ``flows`` list (steps without one form
the flow ``default``). An edge joins a step that enqueues a topic to each step
with a queue trigger on it; ``virtual_enqueues`` and ``virtual_subscribes``
draw edges that exist only on the diagram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from motia._project.config import Enqueue
from motia._project.registry import Registry
from motia._project.step import Step
from motia._project.triggers import (
    CronTrigger,
    HttpTrigger,
    QueueTrigger,
    StateTrigger,
    StreamTrigger,
)

__all__ = ["Edge", "Flow", "flows_of", "render_mermaid", "render_text", "trigger_label"]

DEFAULT_FLOW = "default"


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    topic: str
    virtual: bool = False
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    steps: list[Step]
    edges: list[Edge]


def flows_of(registry: Registry) -> list[Flow]:
    edges = _edges(registry.steps)
    names = sorted({flow for step in registry.steps for flow in _flows(step)})
    result = []
    for name in names:
        members = [step for step in registry.steps if name in _flows(step)]
        inside = {step.name for step in members}
        flow_edges = [e for e in edges if e.source in inside or e.target in inside]
        result.append(Flow(name, members, flow_edges))
    return result


def _flows(step: Step) -> list[str]:
    return step.config.flows or [DEFAULT_FLOW]


def _edges(steps: list[Step]) -> list[Edge]:
    subscribers: dict[str, list[tuple[str, bool]]] = {}
    for step in steps:
        for trigger in step.config.triggers:
            if isinstance(trigger, QueueTrigger):
                subscribers.setdefault(trigger.topic, []).append((step.name, False))
        for topic in step.config.virtual_subscribes:
            subscribers.setdefault(topic, []).append((step.name, True))
    edges = []
    for step in steps:
        sent = [(e, False) for e in step.config.enqueues]
        sent += [(e, True) for e in step.config.virtual_enqueues]
        for enqueue, virtual in sent:
            topic, label = _topic(enqueue)
            for target, virtual_target in subscribers.get(topic, []):
                edges.append(Edge(step.name, target, topic, virtual or virtual_target, label))
    return edges


def _topic(enqueue: str | Enqueue) -> tuple[str, str | None]:
    if isinstance(enqueue, str):
        return enqueue, None
    return enqueue.topic, enqueue.label


def trigger_label(step: Step) -> str:
    return ", ".join(_label(trigger) for trigger in step.config.triggers)


def _label(trigger: object) -> str:
    if isinstance(trigger, HttpTrigger):
        return f"{trigger.method} {trigger.path}"
    if isinstance(trigger, QueueTrigger):
        return f"queue {trigger.topic}"
    if isinstance(trigger, CronTrigger):
        return f"cron {trigger.expression}"
    if isinstance(trigger, StateTrigger):
        return "state"
    if isinstance(trigger, StreamTrigger):
        return f"stream {trigger.stream_name}"
    return type(trigger).__name__


def render_text(flows: list[Flow]) -> str:
    lines: list[str] = []
    for flow in flows:
        lines.append(f"flow {flow.name}")
        width = max(len(step.name) for step in flow.steps)
        lines.extend(f"  {step.name:<{width}}  {trigger_label(step)}" for step in flow.steps)
        for edge in flow.edges:
            arrow = "-.->" if edge.virtual else "--->"
            lines.append(f"  {edge.source} {arrow} {edge.target}  ({edge.topic})")
        lines.append("")
    return "\n".join(lines)


def render_mermaid(flows: list[Flow]) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for flow in flows:
        lines.append(f'  subgraph {_node_id("flow", flow.name)}["{_escape(flow.name)}"]')
        for step in flow.steps:
            if step.name not in ids:
                ids[step.name] = f"s{len(ids)}"
                label = f"{_escape(step.name)}<br/>{_escape(trigger_label(step))}"
                lines.append(f'    {ids[step.name]}["{label}"]')
        lines.append("  end")
    seen: set[Edge] = set()
    for flow in flows:
        for edge in flow.edges:
            if edge in seen or edge.source not in ids or edge.target not in ids:
                continue
            seen.add(edge)
            arrow = "-.->" if edge.virtual else "-->"
            text = _escape(edge.label or edge.topic)
            lines.append(f'  {ids[edge.source]} {arrow}|"{text}"| {ids[edge.target]}')
    return "\n".join(lines) + "\n"


def _node_id(prefix: str, name: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")
