"""Did every subscriber get every order exactly once, and when did the last one have it?"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.load.arrivals import Chunk
from bench.stats import percentile

Arrival = tuple[float, list[bytes]]

PEER = "fastapi-arq"
PATTERNS = {
    "motia": re.compile(rb'"groupId":"all","id":"(o\d+)"'),
    PEER: re.compile(rb'data: \{"id":"(o\d+)"'),
}
"""Finds the order id of each event, once per event (the item's own ``id`` is not matched)."""
MARKERS = {"motia": b'"groupId":"all","id":"o', PEER: b'data: {"id":"o'}
"""Occurs once per order event: counted as chunks arrive, to know when all are in."""


@dataclass
class Deliveries:
    orders: int
    missing: int = 0
    """(subscriber, order) pairs that never arrived."""
    duplicates: int = 0
    unexpected: int = 0
    """Ids a subscriber got that were not sent in this step."""
    latencies_ms: list[float] = field(default_factory=list)
    """Per order every subscriber had: the last subscriber's arrival minus the send time."""

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def problem(self) -> str | None:
        """What went wrong with the deliveries, or None when each arrived once everywhere."""
        faults = [("missing", self.missing), ("duplicate", self.duplicates),
                  ("unexpected", self.unexpected)]  # fmt: skip
        found = [f"{count} {name}" for name, count in faults if count]
        return f"deliveries: {', '.join(found)}" if found else None


def check(sent: Mapping[bytes, float], subscribers: Sequence[Sequence[Arrival]]) -> Deliveries:
    """``sent`` maps each order id to its send time; each subscriber's arrivals in order."""
    result = Deliveries(orders=len(sent))
    last: dict[bytes, float] = dict.fromkeys(sent, 0.0)
    everywhere = set(sent)
    for arrivals in subscribers:
        first: dict[bytes, float] = {}
        count = 0
        for at, ids in arrivals:
            count += len(ids)
            for order_id in ids:
                first.setdefault(order_id, at)
        result.duplicates += count - len(first)
        result.unexpected += len(first.keys() - sent.keys())
        result.missing += len(sent.keys() - first.keys())
        everywhere &= first.keys()
        for order_id in everywhere:
            last[order_id] = max(last[order_id], first[order_id])
    result.latencies_ms = sorted((last[i] - sent[i]) * 1000 for i in everywhere)
    return result


def ids_by_arrival(chunks: Sequence[Chunk], pattern: re.Pattern[bytes]) -> list[Arrival]:
    """The order ids of each frame, stamped with the time of the chunk that completed it."""
    arrivals = []
    pending = b""
    for at, data in chunks:
        body = pending + data
        cut = body.rfind(b"\n\n")
        if cut < 0:
            pending = body
            continue
        pending = body[cut + 2 :]
        ids = pattern.findall(body, 0, cut)
        if ids:
            arrivals.append((at, ids))
    return arrivals
