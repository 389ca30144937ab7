import pytest
from pydantic import BaseModel, Field

from motia import InvalidUpdateOp, UnstorableValue
from motia._runtime.state import StateManager
from motia.backends import Change, MemoryStore, SQLiteStore

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "sqlite"])
async def store(request, tmp_path):
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    async with store:
        yield store


@pytest.fixture
def state(store):
    return StateManager(store)


class Order(BaseModel):
    order_id: str = Field(alias="orderId")
    total: float


async def test_set_get_and_returned_values(state):
    assert await state.get("orders", "o1") is None
    assert await state.set("orders", "o1", {"total": 1}) == {
        "old_value": None,
        "new_value": {"total": 1},
    }
    assert await state.set("orders", "o1", {"total": 2}) == {
        "old_value": {"total": 1},
        "new_value": {"total": 2},
    }
    assert await state.get("orders", "o1") == {"total": 2}


async def test_pydantic_models_are_stored_by_alias(state):
    await state.set("orders", "o1", Order(orderId="o1", total=3.5))
    assert await state.get("orders", "o1") == {"orderId": "o1", "total": 3.5}


async def test_unstorable_value_is_refused(state):
    with pytest.raises(UnstorableValue, match=r"\$\.tags"):
        await state.set("orders", "o1", {"tags": {"a"}})
    assert await state.get("orders", "o1") is None


async def test_update_returns_old_and_new(state):
    await state.set("counters", "c", {"n": 1})
    result = await state.update("counters", "c", [{"type": "increment", "path": "n", "by": 4}])
    assert result == {"old_value": {"n": 1}, "new_value": {"n": 5}}


async def test_bad_update_changes_nothing(state):
    await state.set("counters", "c", {"n": 1})
    with pytest.raises(InvalidUpdateOp, match="op #0"):
        await state.update("counters", "c", [{"type": "increment", "path": "n", "by": "1"}])
    assert await state.get("counters", "c") == {"n": 1}


async def test_returned_values_are_copies(state):
    result = await state.set("g", "k", {"a": [1]})
    result["new_value"]["a"].append(2)
    assert await state.get("g", "k") == {"a": [1]}


async def test_delete_returns_the_old_value(state):
    await state.set("g", "k", {"a": 1})
    assert await state.delete("g", "k") == {"a": 1}
    assert await state.delete("g", "k") is None
    assert await state.get("g", "k") is None


async def test_list_get_group_list_groups_and_clear(state):
    await state.set("g", "b", 2)
    await state.set("g", "a", 1)
    await state.set("h", "x", 0)
    assert await state.list("g") == [2, 1]
    assert await state.get_group("g") == [2, 1]
    assert await state.list_groups() == ["g", "h"]
    await state.clear("g")
    assert await state.list("g") == []
    assert await state.list_groups() == ["h"]


async def test_state_uses_its_own_namespace(state, store):
    changes = []
    store.feed.subscribe(changes.append)
    await store.set("stream:todo", "g", "k", "stream item")
    await state.set("g", "k", "state value")
    assert await state.get("g", "k") == "state value"
    assert await state.list_groups() == ["g"]
    assert [c.namespace for c in changes if isinstance(c, Change)] == ["stream:todo", "state"]
