"""One behavioural suite every ``Store`` must pass; add a backend to ``STORE_FACTORIES``."""

import logging
import random
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from redis_support import redis_store

from motia import InvalidUpdateOp, UnstorableValue
from motia.backends import Change, ChangeFeed, Ephemeral, MemoryStore, SQLiteStore, Store

pytestmark = pytest.mark.anyio

NS = "state"

STORE_FACTORIES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / ".motia" / "store.db"),
    "redis": redis_store,
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request, tmp_path):
    async with STORE_FACTORIES[request.param](tmp_path) as opened:
        yield opened


SENTINEL = Ephemeral("sentinel", "g", None, "sentinel", None)


class Recorder:
    """Collects feed messages; ``settled`` tells when nothing more is on its way."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.messages: list[Change | Ephemeral] = []
        self.unsubscribe = store.feed.subscribe(self.messages.append)

    @property
    def changes(self) -> list[Change]:
        return [m for m in self.messages if isinstance(m, Change)]

    async def settled(self) -> list[Change | Ephemeral]:
        """The messages received before a sentinel published after them.

        A feed delivers in order, so a late or duplicate message would arrive before it.
        """
        await self.store.publish(SENTINEL)
        with anyio.fail_after(5):
            while SENTINEL not in self.messages:
                await anyio.sleep(0.005)
        assert self.messages[-1] == SENTINEL, self.messages
        return self.messages[:-1]


async def test_get_missing_is_none(store):
    assert await store.get(NS, "g", "missing") is None


async def test_set_creates_then_updates(store):
    created = await store.set(NS, "g", "k", {"a": 1})
    assert (created.kind, created.old_value, created.new_value) == ("create", None, {"a": 1})
    assert (created.namespace, created.group_id, created.item_id) == (NS, "g", "k")
    updated = await store.set(NS, "g", "k", {"a": 2})
    assert (updated.kind, updated.old_value, updated.new_value) == ("update", {"a": 1}, {"a": 2})
    assert await store.get(NS, "g", "k") == {"a": 2}


async def test_overwriting_a_stored_null_is_an_update(store):
    await store.set(NS, "g", "k", None)
    updated = await store.set(NS, "g", "k", 1)
    assert (updated.kind, updated.old_value, updated.new_value) == ("update", None, 1)
    changed = await store.update(NS, "g", "k", [{"type": "set", "path": "", "value": None}])
    assert (changed.kind, changed.old_value, changed.new_value) == ("update", 1, None)
    again = await store.update(NS, "g", "k", [{"type": "set", "path": "", "value": 2}])
    assert (again.kind, again.old_value, again.new_value) == ("update", None, 2)


@pytest.mark.parametrize(
    "value", [0, -1.5, "text é ✓", True, None, [], {}, [1, "2", None, {"x": [False]}]]
)
async def test_json_values_round_trip(store, value):
    await store.set(NS, "g", "k", {"v": value})
    assert await store.get(NS, "g", "k") == {"v": value}


async def test_stored_values_cannot_be_mutated_through_arguments_or_results(store):
    value = {"list": [1]}
    change = await store.set(NS, "g", "k", value)
    value["list"].append(2)
    change.new_value["list"].append(3)
    (await store.get(NS, "g", "k"))["list"].append(4)
    assert await store.get(NS, "g", "k") == {"list": [1]}


async def test_update_applies_ops_atomically(store):
    await store.set(NS, "g", "k", {"n": 1, "drop": True})
    ops = [{"type": "increment", "path": "n", "by": 2}, {"type": "remove", "path": "drop"}]
    change = await store.update(NS, "g", "k", ops)
    assert (change.kind, change.old_value, change.new_value) == (
        "update",
        {"n": 1, "drop": True},
        {"n": 3},
    )
    assert await store.get(NS, "g", "k") == {"n": 3}


async def test_update_of_missing_item_creates_it(store):
    change = await store.update(NS, "g", "k", [{"type": "increment", "path": "n", "by": 1}])
    assert (change.kind, change.old_value, change.new_value) == ("create", None, {"n": 1})


async def test_update_check_can_replace_the_value(store):
    change = await store.update(
        NS, "g", "k", [{"type": "set", "path": "a", "value": 1}], check=lambda v: {**v, "id": "k"}
    )
    assert change.new_value == {"a": 1, "id": "k"}
    assert await store.get(NS, "g", "k") == {"a": 1, "id": "k"}


async def test_bad_op_changes_nothing(store):
    await store.set(NS, "g", "k", {"n": "text"})
    _, version_before = await store.snapshot(NS, "g")
    recorder = Recorder(store)
    with pytest.raises(InvalidUpdateOp):
        await store.update(NS, "g", "k", [{"type": "increment", "path": "n", "by": 1}])
    with pytest.raises(InvalidUpdateOp):
        await store.update(NS, "g", "k", [{"type": "set", "path": "n", "value": 1}, {"x": 1}])
    with pytest.raises(InvalidUpdateOp):
        await store.update(NS, "g", "new", [{"type": "merge", "value": "nope"}])
    assert await store.get(NS, "g", "k") == {"n": "text"}
    assert await store.get(NS, "g", "new") is None
    assert (await store.snapshot(NS, "g"))[1] == version_before
    assert await recorder.settled() == []


async def test_failing_check_changes_nothing(store):
    await store.set(NS, "g", "k", {"n": 1})
    recorder = Recorder(store)

    def refuse(value):
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await store.update(NS, "g", "k", [{"type": "set", "path": "n", "value": 2}], check=refuse)
    assert await store.get(NS, "g", "k") == {"n": 1}
    assert await recorder.settled() == []


async def test_unstorable_value_is_refused_and_nothing_written(store):
    recorder = Recorder(store)
    with pytest.raises(UnstorableValue):
        await store.set(NS, "g", "k", {"a": {1, 2}})
    with pytest.raises(UnstorableValue):
        await store.set(NS, "g", "k", {"a": float("nan")})
    with pytest.raises(InvalidUpdateOp):
        await store.update(NS, "g", "k", [{"type": "set", "path": "a", "value": b"x"}])
    assert await store.get(NS, "g", "k") is None
    assert await store.list_groups(NS) == []
    assert await recorder.settled() == []


async def test_delete(store):
    await store.set(NS, "g", "k", {"a": 1})
    change = await store.delete(NS, "g", "k")
    assert change is not None
    assert (change.kind, change.old_value, change.new_value) == ("delete", {"a": 1}, None)
    assert await store.get(NS, "g", "k") is None
    assert await store.delete(NS, "g", "k") is None


async def test_list_keeps_insertion_order(store):
    for key in ["b", "a", "c"]:
        await store.set(NS, "g", key, key.upper())
    await store.set(NS, "g", "b", "B2")  # an update keeps its place
    await store.delete(NS, "g", "a")
    await store.set(NS, "g", "a", "A2")  # a re-created item goes last
    assert await store.list(NS, "g") == [("b", "B2"), ("c", "C"), ("a", "A2")]
    assert await store.list(NS, "other") == []


async def test_namespaces_and_groups_are_isolated(store):
    await store.set("state", "g", "k", 1)
    await store.set("stream:todo", "g", "k", 2)
    await store.set("state", "h", "k", 3)
    assert await store.get("state", "g", "k") == 1
    assert await store.get("stream:todo", "g", "k") == 2
    assert await store.list_groups("state") == ["g", "h"]
    assert await store.list_groups("stream:todo") == ["g"]
    assert await store.list_groups("stream:none") == []


async def test_clear_deletes_every_item_of_one_group(store):
    await store.set(NS, "g", "a", 1)
    await store.set(NS, "g", "b", 2)
    await store.set(NS, "h", "a", 3)
    changes = await store.clear(NS, "g")
    assert [(c.item_id, c.kind, c.old_value, c.new_value) for c in changes] == [
        ("a", "delete", 1, None),
        ("b", "delete", 2, None),
    ]
    assert changes[0].version < changes[1].version
    assert await store.list(NS, "g") == []
    assert await store.list_groups(NS) == ["h"]
    assert await store.clear(NS, "g") == []


async def test_versions_strictly_increase_across_all_writes(store):
    changes = [
        await store.set(NS, "g", "a", 1),
        await store.update(NS, "g", "a", [{"type": "increment", "path": "", "by": 1}]),
        await store.set("stream:x", "g", "b", {}),
        await store.delete(NS, "g", "a"),
        *await store.clear("stream:x", "g"),
    ]
    versions = [change.version for change in changes]
    assert versions == sorted(set(versions))
    assert len(versions) == 5


async def test_snapshot_version_is_the_last_committed_write(store):
    items, version = await store.snapshot(NS, "g")
    assert items == []
    await store.set(NS, "g", "a", 1)
    last = await store.set(NS, "other", "b", 2)
    items, version = await store.snapshot(NS, "g")
    assert items == [("a", 1)]
    assert version == last.version


async def test_feed_gets_exactly_one_change_per_write(store):
    recorder = Recorder(store)
    returned = [
        await store.set(NS, "g", "a", 1),
        await store.update(NS, "g", "a", [{"type": "increment", "path": "", "by": 1}]),
        await store.set(NS, "g", "b", 1),
        await store.delete(NS, "g", "a"),
        *await store.clear(NS, "g"),
    ]
    assert await store.delete(NS, "g", "missing") is None
    assert await recorder.settled() == returned


async def test_feed_change_is_readable_when_received(store):
    seen_values = []

    def on_change(message):
        if isinstance(message, Change):
            seen_values.append(message)

    store.feed.subscribe(on_change)
    change = await store.set(NS, "g", "a", {"x": 1})
    with anyio.fail_after(5):
        while not seen_values:
            await anyio.sleep(0.005)
    assert seen_values == [change]
    items, version = await store.snapshot(NS, "g")
    assert version >= change.version and items == [("a", {"x": 1})]


async def test_unsubscribed_callback_gets_nothing(store):
    recorder = Recorder(store)
    witness = Recorder(store)
    recorder.unsubscribe()
    recorder.unsubscribe()  # idempotent
    change = await store.set(NS, "g", "a", 1)
    assert await witness.settled() == [change]
    assert recorder.messages == []


async def test_publish_delivers_ephemeral_events(store):
    recorder = Recorder(store)
    event = Ephemeral("stream:todo", "g", None, "typing", {"user": "u"})
    await store.publish(event)
    assert await recorder.settled() == [event]
    assert await store.list_groups("stream:todo") == []


async def test_concurrent_increments_are_all_counted(store):
    async def increment():
        await store.update(NS, "g", "counter", [{"type": "increment", "path": "n", "by": 1}])

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(increment)
    assert await store.get(NS, "g", "counter") == {"n": 200}


async def test_snapshot_plus_buffered_changes_has_no_gap_and_no_duplicate(store):
    """Subscribe, snapshot, then apply buffered changes newer than the snapshot."""
    rng = random.Random(7)
    keys = [f"k{i}" for i in range(8)]

    async def write(step: int) -> None:
        key = rng.choice(keys)
        action = rng.random()
        if action < 0.5:
            await store.set(NS, "g", key, {"step": step})
        elif action < 0.8:
            await store.update(NS, "g", key, [{"type": "increment", "path": "n", "by": 1}])
        else:
            await store.delete(NS, "g", key)

    buffered: list[Change] = []
    view: dict[str, object] = {}

    async def subscriber() -> None:
        store.feed.subscribe(lambda m: buffered.append(m) if isinstance(m, Change) else None)
        items, version = await store.snapshot(NS, "g")
        view.update(items)
        view["__version__"] = version

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for step in range(100):
                tg.start_soon(write, step)
                if step == 50:
                    tg.start_soon(subscriber)
        with anyio.fail_after(5):  # the feed may deliver after the write returns
            while not buffered or buffered[-1].version < (await store.snapshot(NS, "g"))[1]:
                await anyio.sleep(0.005)

    snapshot_version = view.pop("__version__")
    live = [change for change in buffered if change.version > snapshot_version]
    assert len({change.version for change in live}) == len(live)
    for change in sorted(live, key=lambda c: c.version):
        if change.kind == "delete":
            assert change.item_id in view
            del view[change.item_id]
        else:
            assert (change.item_id in view) == (change.kind == "update")
            view[change.item_id] = change.new_value
    assert view == dict(await store.list(NS, "g"))


async def test_close_is_idempotent(tmp_path):
    for factory in STORE_FACTORIES.values():
        store = factory(tmp_path)
        await store.open()
        await store.close()
        await store.close()


def test_feed_survives_a_failing_subscriber(caplog):
    feed = ChangeFeed()
    received = []

    def broken(message):
        raise RuntimeError("boom")

    feed.subscribe(broken)
    feed.subscribe(received.append)
    message = Ephemeral("stream:x", "g", None, "e", None)
    with caplog.at_level(logging.ERROR, logger="motia.backends"):
        feed.publish(message)
    assert received == [message]
    assert "boom" in caplog.text


def test_feed_callback_may_unsubscribe_during_publish():
    feed = ChangeFeed()
    received = []
    unsubscribe = feed.subscribe(lambda m: (received.append(m), unsubscribe()))
    feed.subscribe(received.append)
    feed.publish(Ephemeral("stream:x", "g", None, "e", 1))
    feed.publish(Ephemeral("stream:x", "g", None, "e", 2))
    assert [m.data for m in received] == [1, 1, 2]
    assert len(feed) == 1
