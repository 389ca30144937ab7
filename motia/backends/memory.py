"""An in-process ``Store``: nothing survives the process, nothing is shared with others.

Values are kept as JSON text, like the other backends, so no caller can mutate
stored data through a returned object. No method awaits inside its critical
section, which makes every write atomic on the event loop without a lock.
"""

from __future__ import annotations

import builtins
from typing import Any

from motia.backends.base import (
    Change,
    ChangeKind,
    Store,
    UpdateCheck,
    dump_json,
    load_json,
    updated,
)
from motia.backends.ops import JSON, ensure_json

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """A dict of ``{(namespace, group_id): {item_id: json_text}}`` in insertion order."""

    never_suspends = True

    def __init__(self) -> None:
        super().__init__()
        self._groups: dict[tuple[str, str], dict[str, str]] = {}
        self._version = 0

    async def get(self, namespace: str, group_id: str, item_id: str) -> JSON | None:
        return self._read(namespace, group_id, item_id)

    async def set(self, namespace: str, group_id: str, item_id: str, value: Any) -> Change:
        return self._write(namespace, group_id, item_id, ensure_json(value))

    async def update(
        self,
        namespace: str,
        group_id: str,
        item_id: str,
        ops: builtins.list[dict[str, Any]],
        *,
        check: UpdateCheck | None = None,
    ) -> Change:
        value = updated(self._read(namespace, group_id, item_id), ops, check)
        return self._write(namespace, group_id, item_id, value)

    async def delete(self, namespace: str, group_id: str, item_id: str) -> Change | None:
        items = self._groups.get((namespace, group_id), {})
        if item_id not in items:
            return None
        old_text = items.pop(item_id)
        if not items:
            del self._groups[(namespace, group_id)]
        return self._commit(namespace, group_id, item_id, "delete", load_json(old_text), None)

    async def list(self, namespace: str, group_id: str) -> builtins.list[tuple[str, JSON]]:
        items = self._groups.get((namespace, group_id), {})
        return [(item_id, load_json(text)) for item_id, text in items.items()]

    async def snapshot(
        self, namespace: str, group_id: str
    ) -> tuple[builtins.list[tuple[str, JSON]], int]:
        return await self.list(namespace, group_id), self._version

    async def list_groups(self, namespace: str) -> builtins.list[str]:
        return sorted(group_id for ns, group_id in self._groups if ns == namespace)

    async def clear(self, namespace: str, group_id: str) -> builtins.list[Change]:
        items = self._groups.pop((namespace, group_id), {})
        return [
            self._commit(namespace, group_id, item_id, "delete", load_json(text), None)
            for item_id, text in items.items()
        ]

    def _read(self, namespace: str, group_id: str, item_id: str) -> JSON | None:
        text = self._groups.get((namespace, group_id), {}).get(item_id)
        return None if text is None else load_json(text)

    def _write(self, namespace: str, group_id: str, item_id: str, value: JSON) -> Change:
        text = dump_json(value)
        items = self._groups.setdefault((namespace, group_id), {})
        old_text = items.get(item_id)
        items[item_id] = text
        kind: ChangeKind = "create" if old_text is None else "update"
        old_value = None if old_text is None else load_json(old_text)
        return self._commit(namespace, group_id, item_id, kind, old_value, value)

    def _commit(
        self,
        namespace: str,
        group_id: str,
        item_id: str,
        kind: ChangeKind,
        old_value: JSON | None,
        new_value: JSON | None,
    ) -> Change:
        self._version += 1
        change = Change(namespace, group_id, item_id, kind, old_value, new_value, self._version)
        self.feed.publish(change)
        return change
