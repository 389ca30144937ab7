"""``python -m bench``: run the scenarios, interleaved, and write ``bench/results/``.

Options: ``--quick`` (short samples, one round: checks the harness), ``--rounds``,
``--only http,sse,...``, ``--skip`` and ``--render``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bench import machine, report
from bench.config import FULL, QUICK, Config
from bench.scenarios import (
    chain,
    fanout,
    http,
    idle,
    opening,
    queue,
    resets,
    sse,
    startup,
    wake,
)
from bench.server import pin_self, raise_fd_limit

SCENARIOS: dict[str, Callable[[Config], list[dict[str, Any]]]] = {
    "http": http.run,
    "sse": sse.run,
    "idle": idle.run,
    "fanout": fanout.run,
    "wake": wake.run,
    "open": opening.run,
    "resets": resets.run,
    "startup": startup.run,
    "queue": queue.run,
    "chain": chain.run,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render:
        print(f"rendered {report.rerender()} and the README table")
        return 0
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("bench needs wrk and taskset (apt-get install -y wrk util-linux)", file=sys.stderr)
        return 2
    config = QUICK if args.quick else FULL
    if args.rounds:
        config = replace(config, rounds=args.rounds)
    pin_self()
    raise_fd_limit()
    chosen = [n for n in SCENARIOS if n in (args.only or SCENARIOS) and n not in args.skip]
    run = _run(chosen, config, "quick" if args.quick else "full")
    stem = run["started"].replace(":", "-") + ("-quick" if args.quick else "")
    as_json, as_md = report.save(run, stem, latest=not (args.quick or args.only or args.skip))
    print(report.markdown(run))
    print(f"results: {as_json} {as_md}")
    return 0


def _run(chosen: list[str], config: Config, preset: str) -> dict[str, Any]:
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = time.monotonic()
    run: dict[str, Any] = {
        "started": started,
        "preset": preset,
        "rounds": config.rounds,
        "config": vars(config),
        "machine": machine.describe(),
        "sections": [],
    }
    for name in chosen:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        run["sections"] += _scenario(name, config)
    run["seconds"] = time.monotonic() - start
    return run


def _scenario(name: str, config: Config) -> list[dict[str, Any]]:
    """A failing scenario is reported as such; the others still run."""
    try:
        return SCENARIOS[name](config)
    except Exception as exc:
        traceback.print_exc()
        return [{"id": name, "title": name, "error": f"{type(exc).__name__}: {exc}", "bars": []}]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short samples, one round")
    parser.add_argument("--rounds", type=int, help="rounds of interleaved peers")
    parser.add_argument("--only", type=_names, help=f"comma-separated: {','.join(SCENARIOS)}")
    parser.add_argument("--skip", type=_names, default=[], help="comma-separated scenarios")
    parser.add_argument(
        "--render", action="store_true", help="only redo the tables from results/latest.json"
    )
    return parser


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {unknown}; pick from {list(SCENARIOS)}"
        )
    return names


if __name__ == "__main__":
    sys.exit(main())
