"""Results as JSON and as a markdown table; the README's table is replaced by the latest one."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def save(run: dict[str, Any], stem: str, *, latest: bool) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``.md``; with ``latest``, also ``latest.*`` and the README."""
    RESULTS.mkdir(exist_ok=True)
    as_json = RESULTS / f"{stem}.json"
    as_md = RESULTS / f"{stem}.md"
    as_json.write_text(json.dumps(run, indent=2, default=str) + "\n")
    table = markdown(run)
    as_md.write_text(table)
    if latest:
        (RESULTS / "latest.json").write_text(as_json.read_text())
        (RESULTS / "latest.md").write_text(table)
        update_readme(table)
    return as_json, as_md


def update_readme(table: str) -> None:
    if not README.exists():
        return
    text = README.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    nested = table.replace("\n## ", "\n### ")  # the README's own headings stay on top
    if pattern.search(text):
        README.write_text(pattern.sub(lambda _: f"{START}\n{nested}\n{END}", text))


def rerender() -> Path:
    """Write ``latest.md`` and the README table again from ``latest.json``."""
    run = json.loads((RESULTS / "latest.json").read_text())
    table = markdown(run)
    (RESULTS / "latest.md").write_text(table)
    update_readme(table)
    return RESULTS / "latest.md"


def markdown(run: dict[str, Any]) -> str:
    lines = [_header(run), "", "## Bars", "", "| scenario | bar | this run | holds |",
             "|---|---|---|---|"]  # fmt: skip
    for section in run["sections"]:
        for b in section.get("bars", []):
            mark = "yes" if b["holds"] else "**no**"
            lines.append(f"| {section['title']} | {b['bar']} | {_num(b['value'])} | {mark} |")
    for section in run["sections"]:
        lines += ["", f"## {section['title']}", "", *_section(section)]
    return "\n".join(lines) + "\n"


def _header(run: dict[str, Any]) -> str:
    m = run["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    return (
        f"Run {run['started']} ({run['preset']}, {run['rounds']} round(s), "
        f"{run['seconds']:.0f} s). Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}, load average "
        f"{', '.join(f'{x:.2f}' for x in m['load_average'])} at start. Server on core 0, "
        f"client on core 1. {packages}."
    )


def _section(section: dict[str, Any]) -> list[str]:
    if "skipped" in section:
        return [f"Skipped: {section['skipped']}"]
    if "error" in section:
        return [f"Failed: {section['error']}"]
    unit = section["unit"]
    lines = [
        f"| app | {unit} (median) | min-max | motia / app | motia / app per server CPU-s | "
        "app / raw | server CPU | client CPU | CPU-bound | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for peer, figures in section["peers"].items():
        lines.append(_row(peer, figures, section))
    return lines


def _row(peer: str, figures: dict[str, Any], section: dict[str, Any]) -> str:
    versus = section.get("ratios", {}).get(peer)
    per_cpu = section.get("ratios_per_cpu", {}).get(peer)
    of_raw = section.get("of_raw", {}).get(peer)
    return (
        f"| {peer} | {_num(figures['median'])} | {_num(figures['min'])}-{_num(figures['max'])}"
        f" | {_ratio(versus)} | {_ratio(per_cpu)} | {_ratio(of_raw)}"
        f" | {_pct(figures['server_cpu'])} | {_pct(figures['client_cpu'])}"
        f" | {figures['cpu_bound']} | {_notes(figures)} |"
    )


def _notes(figures: dict[str, Any]) -> str:
    extras = [e for e in figures.get("extra", []) if e]
    keys = [k for k in ("p50_ms", "p99_ms", "max_ms", "tasks_left", "undetected", "wire_bytes",
                        "cpu_ms_per_order", "failed_at") if extras and k in extras[0]]  # fmt: skip
    return ", ".join(f"{k} {_num(sorted(e[k] for e in extras)[len(extras) // 2])}" for k in keys)


def _ratio(summary: dict[str, float] | None) -> str:
    if not summary or math.isnan(summary["median"]):
        return ""
    return f"{summary['median']:.2f}x ({summary['min']:.2f}-{summary['max']:.2f})"


def _pct(value: float) -> str:
    return "" if math.isnan(value) else f"{value * 100:.0f}%"


def _num(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
