"""The order-chain benchmark's own logic: parsing, delivery checks and the rate ladder."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

# bench/ is not installed; appended last, so the installed distribution still wins metadata look-ups
sys.path.append(str(Path(__file__).resolve().parent.parent))

from bench.deliveries import MARKERS, PATTERNS, Deliveries, check, ids_by_arrival
from bench.ladder import Step, climb, sustained
from bench.load.arrivals import OrderStream, Tally
from bench.load.orders import split_answers

MOTIA_FRAME = (
    b'event: create\nid: 05220a6c.2.0\ndata: {"timestamp":1,"streamName":"orders",'
    b'"groupId":"all","id":"o7","event":{"type":"create","data":{"id":"o7","item":"w",'
    b'"qty":2,"total":2}}}\n\n'
)
PEER_FRAME = b'event: create\ndata: {"id":"o7","item":"w","qty":2,"total":2}\n\n'


def answer(status: int, body: bytes) -> bytes:
    return b"HTTP/1.1 %d X\r\ncontent-type: a/b\r\ncontent-length: %d\r\n\r\n%s" % (
        status, len(body), body)  # fmt: skip


def test_split_answers_returns_complete_responses_and_keeps_the_rest() -> None:
    two = answer(202, b'{"id":"o1"}') + answer(400, b"{}")
    partial = answer(202, b'{"id":"o2"}')[:-3]
    statuses, rest = split_answers(two + partial)
    assert statuses == [202, 400]
    assert rest == partial
    assert split_answers(b"HTTP/1.1 204 No Content\r\nx: y\r\n\r\n") == ([204], b"")


@pytest.mark.parametrize(("side", "frame"), [("motia", MOTIA_FRAME), ("fastapi-arq", PEER_FRAME)])
def test_each_event_has_its_order_once(side: str, frame: bytes) -> None:
    assert PATTERNS[side].findall(frame) == [b"o7"]
    assert frame.count(MARKERS[side]) == 1


def test_a_frame_split_across_reads_has_the_time_of_the_read_that_completed_it() -> None:
    second = PEER_FRAME.replace(b"o7", b"o8")
    chunks = [(1.0, PEER_FRAME + second[:20]), (2.0, second[20:-1]), (3.0, second[-1:])]
    assert ids_by_arrival(chunks, PATTERNS["fastapi-arq"]) == [(1.0, [b"o7"]), (3.0, [b"o8"])]


def test_a_marker_split_across_reads_is_counted_once() -> None:
    async def read() -> OrderStream:
        stream = OrderStream(b"", MARKERS["motia"], Tally())
        second = MOTIA_FRAME.replace(b"o7", b"o8")
        at = second.index(b'"id":"o8"') + 2
        stream.data_received(b"HTTP/1.1 200 OK\r\n\r\n" + MOTIA_FRAME + second[:at])
        stream.data_received(second[at:])
        return stream

    stream = asyncio.run(read())
    assert stream.tally.count == 2
    assert len(stream.chunks) == 2
    assert stream.ready.result() is True


def test_latency_is_the_last_subscribers_first_arrival() -> None:
    sent = {b"o1": 10.0, b"o2": 11.0}
    first = [(10.002, [b"o1"]), (11.001, [b"o2"])]
    second = [(10.005, [b"o1", b"o2"]), (11.5, [b"o1"])]
    result = check(sent, [first, second])
    assert result.latencies_ms == pytest.approx([1.0, 5.0])
    assert (result.missing, result.duplicates, result.unexpected) == (0, 1, 0)
    assert result.problem() == "deliveries: 1 duplicate"


def test_missing_and_unexpected_ids_are_problems_and_have_no_latency() -> None:
    sent = {b"o1": 1.0, b"o2": 1.0}
    result = check(sent, [[(1.01, [b"o1", b"o9"])], [(1.02, [b"o1", b"o2"])]])
    assert (result.missing, result.unexpected) == (1, 1)
    assert result.latencies_ms == pytest.approx([20.0])
    assert result.problem() == "deliveries: 1 missing, 1 unexpected"


def test_a_clean_delivery_has_no_problem() -> None:
    assert check({b"o1": 1.0}, [[(1.001, [b"o1"])]]).problem() is None


def step(rate: float, *, p99: float = 5.0, answered: int = 10, missing: int = 0) -> Step:
    return Step(
        rate, 10, answered, Deliveries(10, missing=missing, latencies_ms=[1.0] * 99 + [p99])
    )


def test_a_step_fails_on_unanswered_posts_losses_or_a_slow_p99() -> None:
    assert step(100).failure(50) is None
    assert step(100, answered=9).failure(50) == "1 of 10 POSTs not answered 2xx"
    assert step(100, missing=3).failure(50) == "deliveries: 3 missing"
    assert step(100, p99=50.0).failure(50) == "p99 50.0 ms >= 50 ms"


def test_the_climb_stops_at_the_first_failure() -> None:
    tried = []

    async def attempt(rate: float) -> Step:
        tried.append(rate)
        return step(rate, p99=80.0 if rate >= 300 else 5.0)

    steps = asyncio.run(climb([100, 200, 300, 500], attempt, 50))
    assert tried == [100, 200, 300, 300]
    assert [s.retried for s in steps] == [False, False, True]
    best = sustained(steps, 50)
    assert best is not None and best.rate == 200


def test_a_rate_only_slow_once_is_tried_again_and_may_hold() -> None:
    slow_first = iter([80.0, 5.0])

    async def attempt(rate: float) -> Step:
        return step(rate, p99=next(slow_first) if rate == 200 else 5.0)

    steps = asyncio.run(climb([100, 200], attempt, 50))
    assert [(s.rate, s.retried, s.failure(50)) for s in steps] == [
        (100, False, None),
        (200, True, None),
    ]


def test_a_loss_fails_the_rate_without_a_second_attempt() -> None:
    tried = []

    async def attempt(rate: float) -> Step:
        tried.append(rate)
        return step(rate, missing=1)

    steps = asyncio.run(climb([100, 200], attempt, 50))
    assert tried == [100]
    assert steps[0].failure(50) == "deliveries: 1 missing"


def test_nothing_is_sustained_when_the_first_rate_fails() -> None:
    assert sustained([step(50, missing=1)], 50) is None
