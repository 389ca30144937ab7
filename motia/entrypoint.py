"""What ``dist/index.py`` (written by ``motia build``) runs: it loads the stream and step
files it lists, as Motia's generated entrypoint does, and serves them with this runtime."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from motia._project.loader import LoadResult, load_step_file, load_stream_file
from motia.cli import start_options
from motia.exceptions import BuildError, ServeError
from motia.server import serve_loaded

__all__ = ["Entrypoint"]


class Entrypoint:
    """The files a built entrypoint serves; a broken file is reported when it serves."""

    def __init__(self) -> None:
        self._loaded = LoadResult()

    def add_stream_file(self, path: str) -> None:
        load_stream_file(Path(path), self._loaded)

    def add_step_file(self, path: str) -> None:
        load_step_file(Path(path), self._loaded)

    def serve(self, argv: Sequence[str] | None = None) -> int:
        """Serve until interrupted, with ``motia start``'s options (the command line's)."""
        options = start_options(sys.argv[1:] if argv is None else argv)
        try:
            serve_loaded(self._loaded, options)
        except (BuildError, ServeError) as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
