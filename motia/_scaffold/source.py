"""Where this package was installed from, as a requirement a new project can install.

pip records a direct install (a local folder, an archive, a VCS URL) in the
distribution's ``direct_url.json`` (PEP 610); no such file means an index. A
package imported from a source checkout that was never installed is required
by the checkout's path.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["DISTRIBUTION", "requirement"]

DISTRIBUTION = "motia-asgi"
_CHECKOUT = Path(__file__).resolve().parents[2]


def requirement() -> str:
    """A PEP 508 line installing this package from wherever it was installed from."""
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return from_checkout(_CHECKOUT)
    direct_url = distribution.read_text("direct_url.json")
    if direct_url is None:
        return f"{DISTRIBUTION}>={distribution.version}"
    return from_direct_url(json.loads(direct_url))


def from_direct_url(direct_url: dict[str, Any]) -> str:
    """The requirement for a PEP 610 ``direct_url.json`` document."""
    url = str(direct_url["url"])
    vcs = direct_url.get("vcs_info")
    if vcs is not None:
        url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
    if subdirectory := direct_url.get("subdirectory"):
        url += f"#subdirectory={subdirectory}"
    return f"{DISTRIBUTION} @ {url}"


def from_checkout(folder: Path) -> str:
    return f"{DISTRIBUTION} @ {folder.as_uri()}"
