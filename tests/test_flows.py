"""`motia flows`: steps grouped by flow, arrows for the topics between them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from motia import Motia, cron, http, queue, state, step
from motia._project.flows import flows_of, render_mermaid, render_text


def pipeline() -> Motia:
    steps = [
        step(
            {"name": "Create", "flows": ["todo"], "enqueues": ["todo.created"],
             "triggers": [http("POST", "/todo")]},
            lambda a, c: None,
        ),
        step(
            {"name": "Summarize", "flows": ["todo"], "triggers": [queue("todo.created")],
             "virtual_enqueues": [{"topic": "todo.notified", "label": "notify"}]},
            lambda i, c: None,
        ),
        step(
            {"name": "Notify", "flows": ["todo", "alerts"], "virtual_subscribes": ["todo.notified"],
             "triggers": [cron("0 * * * *")]},
            lambda: None,
        ),
        step({"name": "Audit", "triggers": [state()]}, lambda i: None),
    ]  # fmt: skip
    return Motia(steps_dir=None, steps=steps, store="memory")


def test_flows_group_steps_and_connect_topics() -> None:
    flows = {flow.name: flow for flow in flows_of(pipeline().registry)}
    assert sorted(flows) == ["alerts", "default", "todo"]
    assert [s.name for s in flows["todo"].steps] == ["Create", "Summarize", "Notify"]
    edges = {(e.source, e.target, e.topic, e.virtual) for e in flows["todo"].edges}
    assert edges == {
        ("Create", "Summarize", "todo.created", False),
        ("Summarize", "Notify", "todo.notified", True),
    }
    assert [s.name for s in flows["default"].steps] == ["Audit"]


def test_text_rendering_names_triggers_and_arrows() -> None:
    text = render_text(flows_of(pipeline().registry))
    assert "flow todo" in text
    assert "Create     POST /todo" in text
    assert "Create ---> Summarize  (todo.created)" in text
    assert "Summarize -.-> Notify  (todo.notified)" in text


def test_mermaid_has_subgraphs_nodes_and_labelled_edges() -> None:
    diagram = render_mermaid(flows_of(pipeline().registry))
    assert diagram.startswith("flowchart LR\n")
    assert 'subgraph flow_todo["todo"]' in diagram
    ids = dict(re.findall(r'(s\d+)\["(\w+)<br/>', diagram))
    node = {name: node_id for node_id, name in ids.items()}
    assert sorted(node) == ["Audit", "Create", "Notify", "Summarize"]
    assert f'{node["Create"]} -->|"todo.created"| {node["Summarize"]}' in diagram
    assert f'{node["Summarize"]} -.->|"notify"| {node["Notify"]}' in diagram


@pytest.mark.slow
def test_the_cli_prints_and_writes_diagrams(tmp_path: Path) -> None:
    steps = tmp_path / "steps"
    steps.mkdir()
    (steps / "a.step.py").write_text(
        "from motia import http\n"
        "config = {'name': 'A', 'flows': ['f'], 'enqueues': ['t'], "
        "'triggers': [http('GET', '/a')]}\n"
        "async def handler(args, ctx): ...\n"
    )
    (steps / "b_step.py").write_text(
        "from motia import queue\n"
        "config = {'name': 'B', 'flows': ['f'], 'triggers': [queue('t')]}\n"
        "async def handler(input, ctx): ...\n"
    )
    run = [sys.executable, "-m", "motia", "flows"]
    text = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert "A ---> B  (t)" in text.stdout, text.stderr
    out = tmp_path / "flows.mmd"
    subprocess.run([*run, "--mermaid", str(out)], cwd=tmp_path, check=True, timeout=30)
    assert 's0 -->|"t"| s1' in out.read_text()
