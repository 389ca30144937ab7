"""The public surface: ``motia.__all__`` is sorted and every name in it imports."""

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import motia
from motia import exceptions


def test_all_is_sorted_and_unique() -> None:
    assert motia.__all__ == sorted(set(motia.__all__))


def test_every_public_name_imports() -> None:
    for name in motia.__all__:
        module = importlib.import_module("motia")
        assert getattr(module, name) is not None, name
        exec(f"from motia import {name}", {})


HANDLER_ERRORS = [
    "BuildError",
    "ConfigError",
    "EnqueueError",
    "FieldError",
    "InvalidUpdateOp",
    "MotiaError",
    "NonRetryableError",
    "ResponseStartedError",
    "SchemaValidationError",
    "StepError",
    "StreamAuthError",
    "UnstorableValue",
    "UpdateConflict",
]


def test_the_errors_a_handler_meets_are_exported_from_motia() -> None:
    for name in HANDLER_ERRORS:
        assert name in motia.__all__, name
        assert getattr(motia, name) is getattr(exceptions, name)


def test_exceptions_all_is_sorted_and_names_every_class_it_defines() -> None:
    assert exceptions.__all__ == sorted(set(exceptions.__all__))
    defined = {
        name
        for name, value in vars(exceptions).items()
        if inspect.isclass(value) and value.__module__ == exceptions.__name__
    }
    assert defined == set(exceptions.__all__)


def test_every_error_motia_defines_lives_in_motia_exceptions_under_motia_error() -> None:
    modules = pkgutil.walk_packages(motia.__path__, "motia.")
    names = [module.name for module in modules if not module.name.endswith("__main__")]
    for name in names:
        for value in vars(importlib.import_module(name)).values():
            if inspect.isclass(value) and issubclass(value, BaseException):
                if value.__module__.startswith("motia"):
                    assert value.__module__ == "motia.exceptions", value
                    assert issubclass(value, exceptions.MotiaError), value


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("BodyTooLarge", Exception),
        ("BuildError", Exception),
        ("ClientGone", Exception),
        ("ConfigError", ValueError),
        ("EnqueueError", ValueError),
        ("FrameError", ValueError),
        ("InvalidCronExpression", ValueError),
        ("InvalidUpdateOp", ValueError),
        ("JoinRefused", Exception),
        ("MalformedBody", ValueError),
        ("MalformedJSON", ValueError),
        ("NonRetryableError", Exception),
        ("ProjectExistsError", FileExistsError),
        ("ResponseStartedError", RuntimeError),
        ("SchemaValidationError", ValueError),
        ("ServeError", Exception),
        ("StreamAuthError", Exception),
        ("StreamClosed", ConnectionError),
        ("UnstorableValue", ValueError),
        ("UpdateConflict", RuntimeError),
    ],
)
def test_each_error_keeps_the_builtin_base_code_already_catches(
    name: str, builtin: type[Exception]
) -> None:
    error = getattr(exceptions, name)
    assert issubclass(error, exceptions.MotiaError)
    assert issubclass(error, builtin)


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
