"""The dev console: a browser view of an app's flows, logs, state, streams, endpoints, queues.

Served at ``/__motia/console`` when ``Settings.console`` is on (``motia dev``
turns it on; ``motia start --console`` enables it in production), to loopback
``Host`` names only (``access``). Every asset is served from this package: it
works offline, with no build step.
"""

from motia.console.routes import PREFIX, Console

__all__ = ["PREFIX", "Console"]
