"""The public surface: ``motia.__all__`` is sorted and every name in it imports."""

import importlib
import subprocess
import sys

import motia


def test_all_is_sorted_and_unique() -> None:
    assert motia.__all__ == sorted(set(motia.__all__))


def test_every_public_name_imports() -> None:
    for name in motia.__all__:
        module = importlib.import_module("motia")
        assert getattr(module, name) is not None, name
        exec(f"from motia import {name}", {})


def test_importing_motia_starts_nothing() -> None:
    code = "import threading, motia; assert threading.active_count() == 1"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_step_function_wins_over_the_step_module_whatever_is_imported_first() -> None:
    code = (
        "import inspect, motia.step, motia.triggers, motia.streams, motia.multi_trigger\n"
        "from motia import step\n"
        "assert callable(step) and not inspect.ismodule(step)\n"
        "from motia.step import step as twin\n"
        "assert twin is step\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
