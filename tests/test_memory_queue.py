"""The in-process queue's contract: leases, attempts, FIFO heads, retries, dead letters."""

from __future__ import annotations

import random
import time

import pytest

from motia.backends.memory_queue import MemoryQueue
from motia.backends.queue import Delivery, Subscriber

pytestmark = pytest.mark.anyio

SUB = Subscriber("Step", 0)
HOUR = 3600.0


def delivery(name: str, group: str | None = None, data: object = None, at: float = 0.0) -> Delivery:
    return Delivery(
        id=name,
        message_id=f"m-{name}",
        topic="t",
        subscriber=SUB,
        data={"name": name} if data is None else data,
        trace_id="trace",
        group_id=group,
        available_at=at,
    )


async def queue_of(*deliveries: Delivery) -> MemoryQueue:
    queue = MemoryQueue()
    await queue.push(list(deliveries))
    return queue


async def claim_ids(queue: MemoryQueue, *, fifo: bool = False, lease: float = HOUR) -> list[str]:
    return [d.id for d in await queue.claim(SUB, limit=10, lease=lease, fifo=fifo)]


async def test_a_leased_delivery_is_not_claimed_again_until_its_lease_runs_out() -> None:
    queue = await queue_of(delivery("a"), delivery("b"))
    assert await claim_ids(queue) == ["a", "b"]
    assert await claim_ids(queue) == []
    expired = await queue_of(delivery("a"))
    first = (await expired.claim(SUB, limit=1, lease=0.0, fifo=False))[0]
    again = (await expired.claim(SUB, limit=1, lease=HOUR, fifo=False))[0]
    assert (first.attempts, again.attempts) == (1, 2)
    await expired.ack(first)  # the first holder is too late: the second holds it
    assert (await expired.stats())["t"] == {"depth": 0, "in_flight": 1, "retries": 1}
    await expired.ack(again)
    assert await expired.stats() == {}


async def test_claim_takes_at_most_limit_and_other_subscribers_keep_theirs() -> None:
    other = Subscriber("Other", 0)
    queue = await queue_of(delivery("a"), delivery("b"), delivery("c"))
    await queue.push([Delivery("x", "m-x", "t", other, {}, "trace")])
    assert [d.id for d in await queue.claim(SUB, limit=2, lease=HOUR, fifo=False)] == ["a", "b"]
    assert [d.id for d in await queue.claim(other, limit=5, lease=HOUR, fifo=False)] == ["x"]


async def test_fifo_hands_out_only_the_oldest_of_each_group() -> None:
    queue = await queue_of(delivery("a1", "a"), delivery("a2", "a"), delivery("b1", "b"))
    claimed = await queue.claim(SUB, limit=10, lease=HOUR, fifo=True)
    assert [d.id for d in claimed] == ["a1", "b1"]
    await queue.ack(claimed[0])
    assert await claim_ids(queue, fifo=True) == ["a2"]


async def test_fifo_keeps_a_retried_head_in_front_of_its_group() -> None:
    queue = await queue_of(delivery("a1", "a"), delivery("a2", "a"))
    head = (await queue.claim(SUB, limit=10, lease=HOUR, fifo=True))[0]
    await queue.retry(head, at=time.time() + HOUR, error="boom")
    assert await claim_ids(queue, fifo=True) == []
    due = await queue.next_due(SUB, fifo=True)
    assert due is not None and due > time.time() + HOUR / 2


async def test_a_retry_waits_until_its_time_and_counts_the_attempt() -> None:
    queue = await queue_of(delivery("a"))
    first = (await queue.claim(SUB, limit=1, lease=HOUR, fifo=False))[0]
    await queue.retry(first, at=0.0, error="boom")
    second = (await queue.claim(SUB, limit=1, lease=HOUR, fifo=False))[0]
    assert second.attempts == 2
    await queue.retry(second, at=time.time() + HOUR, error="boom")
    assert await claim_ids(queue) == []


async def test_a_release_does_not_count_as_an_attempt() -> None:
    queue = await queue_of(delivery("a"))
    first = (await queue.claim(SUB, limit=1, lease=HOUR, fifo=False))[0]
    await queue.release(first)
    assert [d.attempts for d in await queue.claim(SUB, limit=1, lease=HOUR, fifo=False)] == [1]


async def test_next_due_names_the_earliest_delivery_or_none() -> None:
    later = time.time() + HOUR
    queue = await queue_of(delivery("late", at=later), delivery("later", at=later + 1))
    assert await queue.next_due(SUB, fifo=False) == later
    assert await MemoryQueue().next_due(SUB, fifo=False) is None


async def test_a_handler_changing_its_input_does_not_change_the_retry() -> None:
    queue = await queue_of(delivery("a", data={"n": [1]}))
    first = (await queue.claim(SUB, limit=1, lease=HOUR, fifo=False))[0]
    first.data["n"].append(2)
    await queue.retry(first, at=0.0, error="boom")
    again = (await queue.claim(SUB, limit=1, lease=HOUR, fifo=False))[0]
    assert again.data == {"n": [1]}


async def test_buried_deliveries_are_listed_and_replayed_with_fresh_attempts() -> None:
    queue = await queue_of(delivery("a"), delivery("b"))
    a, b = await queue.claim(SUB, limit=2, lease=HOUR, fifo=False)
    await queue.bury(b, error="bad b")
    await queue.bury(a, error="bad a")
    dead = await queue.dead_letters()
    assert [(d.id, d.error, d.attempts, d.data) for d in dead] == [
        ("b", "bad b", 1, {"name": "b"}),
        ("a", "bad a", 1, {"name": "a"}),
    ]
    assert await queue.dead_letters("other") == []
    assert await queue.replay(["a", "unknown"]) == ["a"]
    assert [(d.id, d.attempts) for d in await queue.claim(SUB, limit=5, lease=1, fifo=False)] == [
        ("a", 1)
    ]
    assert [d.id for d in await queue.dead_letters()] == ["b"]


async def test_a_replayed_fifo_delivery_goes_back_in_front_of_its_group() -> None:
    queue = await queue_of(delivery("a1", "a"), delivery("a2", "a"))
    head = (await queue.claim(SUB, limit=10, lease=HOUR, fifo=True))[0]
    await queue.bury(head, error="bad")
    assert await claim_ids(queue, fifo=True) == ["a2"]
    queue = await queue_of(delivery("a1", "a"), delivery("a2", "a"))
    head = (await queue.claim(SUB, limit=10, lease=HOUR, fifo=True))[0]
    await queue.bury(head, error="bad")
    assert await queue.replay() == ["a1"]
    assert await claim_ids(queue, fifo=True) == ["a1"]


async def test_stats_count_waiting_leased_and_retried_deliveries_per_topic() -> None:
    queue = await queue_of(delivery("a"), delivery("b"), delivery("c"))
    _, b = await queue.claim(SUB, limit=2, lease=HOUR, fifo=False)
    await queue.retry(b, at=time.time() + HOUR, error="boom")
    assert await queue.stats() == {"t": {"depth": 2, "in_flight": 1, "retries": 2}}


async def test_deliveries_acked_under_lease_do_not_pile_up_in_the_schedule() -> None:
    queue = MemoryQueue()
    for n in range(1000):
        await queue.push([delivery(f"d{n}")])
        for claimed in await queue.claim(SUB, limit=10, lease=HOUR, fifo=False):
            await queue.ack(claimed)
    assert len(queue._lanes[SUB].heap) < 200


def walked_stats(queue: MemoryQueue) -> dict[str, dict[str, int]]:
    """``stats`` by walking every live delivery: what the running counts must agree with."""
    now, stats = time.time(), {}
    for lane in queue._lanes.values():
        for entry in lane.entries.values():
            counts = stats.setdefault(
                entry.delivery.topic, {"depth": 0, "in_flight": 0, "retries": 0}
            )
            leased = entry.lease_until is not None and entry.lease_until > now
            counts["in_flight" if leased else "depth"] += 1
            counts["retries"] += entry.attempts > 0
    return stats


async def test_stats_kept_as_deliveries_come_and_go_match_a_walk_of_them() -> None:
    rng = random.Random(7)
    subs = [Subscriber("Step", 0), Subscriber("Other", 0)]
    queue, held, pushed = MemoryQueue(), [], 0
    for _ in range(3000):
        op = rng.choice(["push", "push", "claim", "ack", "retry", "release", "bury", "replay"])
        if op == "push":
            sub = rng.choice(subs)
            pushed += 1
            group = rng.choice([None, "g1", "g2"])
            name = f"d{pushed}"
            await queue.push([Delivery(name, f"m-{name}", sub.step, sub, {}, "t", group)])
        elif op == "claim":
            sub = rng.choice(subs)
            lease = rng.choice([HOUR, -1.0])  # some leases have run out at once
            held += await queue.claim(sub, limit=3, lease=lease, fifo=rng.random() < 0.5)
        elif op == "replay":
            dead = await queue.dead_letters()
            await queue.replay([letter.id for letter in dead if rng.random() < 0.5])
        elif held:
            delivery = held.pop(rng.randrange(len(held)))
            if op == "ack":
                await queue.ack(delivery)
            elif op == "retry":
                await queue.retry(delivery, at=time.time() + rng.choice([0, HOUR]), error="x")
            elif op == "release":
                await queue.release(delivery)
            else:
                await queue.bury(delivery, error="x")
        assert await queue.stats() == walked_stats(queue), op
