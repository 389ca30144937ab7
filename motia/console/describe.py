"""What the console knows about a project's steps: flows, triggers, schemas, endpoints.

Plain JSON-ready dicts built from the registry (``motia._project.flows`` groups the
steps and draws the topic edges; schemas are shown as JSON Schema).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from motia._project.config import Enqueue
from motia._project.flows import Edge, Flow, flows_of, trigger_label
from motia._project.registry import Registry
from motia._project.step import Step
from motia._project.triggers import CronTrigger, HttpTrigger, QueueTrigger, StreamTrigger, Trigger
from motia.console.examples import example_of
from motia.schema_utils import schema_to_json_schema

__all__ = ["describe_endpoints", "describe_flows", "describe_step", "describe_trigger"]


def describe_flows(registry: Registry, project_dir: Path) -> dict[str, Any]:
    flows = flows_of(registry)
    return {
        "flows": [_flow(flow) for flow in flows],
        "steps": {step.name: describe_step(step, project_dir) for step in registry.steps},
        "streams": sorted(registry.streams),
        "errors": [str(error) for error in registry.errors],
    }


def _flow(flow: Flow) -> dict[str, Any]:
    return {
        "name": flow.name,
        "steps": [step.name for step in flow.steps],
        "edges": [_edge(edge) for edge in flow.edges],
    }


def _edge(edge: Edge) -> dict[str, Any]:
    return {
        "source": edge.source,
        "target": edge.target,
        "topic": edge.topic,
        "label": edge.label,
        "virtual": edge.virtual,
    }


def describe_step(step: Step, project_dir: Path) -> dict[str, Any]:
    config = step.config
    return {
        "name": step.name,
        "description": config.description,
        "file": _relative(step.file_path, project_dir),
        "flows": config.flows,
        "kind": config.triggers[0].type if config.triggers else "none",
        "label": trigger_label(step),
        "triggers": [describe_trigger(trigger) for trigger in config.triggers],
        "enqueues": [_enqueue(e) for e in config.enqueues],
        "virtual_enqueues": [_enqueue(e) for e in config.virtual_enqueues],
        "virtual_subscribes": config.virtual_subscribes,
    }


def describe_trigger(trigger: Trigger) -> dict[str, Any]:
    described: dict[str, Any] = {"type": trigger.type}
    if isinstance(trigger, HttpTrigger):
        described |= {"method": trigger.method, "path": trigger.path}
        described["body_schema"] = _schema(trigger.body_schema)
        responses = trigger.response_schema or {}
        described["response_schema"] = {str(k): _schema(v) for k, v in responses.items()}
    elif isinstance(trigger, QueueTrigger):
        described |= {"topic": trigger.topic, "input_schema": _schema(trigger.input)}
        if trigger.config is not None:
            described["config"] = trigger.config.model_dump(mode="json")
    elif isinstance(trigger, CronTrigger):
        described["expression"] = trigger.expression
    elif isinstance(trigger, StreamTrigger):
        described |= {"stream": trigger.stream_name, "group_id": trigger.group_id,
                      "item_id": trigger.item_id}  # fmt: skip
    described["conditional"] = getattr(trigger, "condition", None) is not None
    return described


def describe_endpoints(registry: Registry) -> list[dict[str, Any]]:
    """One entry per HTTP trigger, with an example body built from its ``body_schema``."""
    endpoints = []
    for route in registry.http_routes():
        schema = _schema(route.trigger.body_schema)
        endpoints.append({
            "step": route.step.name,
            "description": route.step.config.description,
            "flows": route.step.config.flows,
            "method": route.method,
            "path": route.trigger.path,
            "body_schema": schema,
            "example": example_of(schema),
        })  # fmt: skip
    return endpoints


def _schema(source: Any) -> dict[str, Any] | None:
    try:
        return schema_to_json_schema(source)
    except (TypeError, ValueError):
        return None


def _enqueue(enqueue: str | Enqueue) -> dict[str, Any]:
    if isinstance(enqueue, str):
        return {"topic": enqueue}
    return {"topic": enqueue.topic, "label": enqueue.label, "conditional": enqueue.conditional}


def _relative(file_path: str | None, project_dir: Path) -> str | None:
    if file_path is None:
        return None
    try:
        return os.path.relpath(file_path, project_dir)
    except ValueError:
        return file_path
