import pytest
from pydantic import BaseModel

from motia import SchemaValidationError, StreamConfig
from motia._runtime.streams import Stream, Streams
from motia.backends import Change, Ephemeral, MemoryStore, SQLiteStore

pytestmark = pytest.mark.anyio


class Todo(BaseModel):
    id: str
    description: str
    done: bool = False


TODO_JSON_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "description": {"type": "string"}},
    "required": ["id", "description"],
}


@pytest.fixture(params=["memory", "sqlite"])
async def store(request, tmp_path):
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    async with store:
        yield store


@pytest.fixture
def todo(store):
    return Stream(StreamConfig(name="todo", schema=Todo), store)


# --- StreamConfig ------------------------------------------------------------------------------


def test_config_defaults():
    config = StreamConfig(name="todo")
    assert (config.name, config.schema, config.compiled_schema) == ("todo", None, None)
    assert config.base_config == {"storage_type": "default"}
    assert config.on_join is None and config.on_leave is None


def test_config_accepts_camel_case_keywords_and_dicts():
    async def on_join(subscription, ctx, auth):
        return {"unauthorized": False}

    config = StreamConfig(
        name="todo", schema=Todo, baseConfig={"storageType": "custom"}, onJoin=on_join
    )
    assert config.base_config == {"storageType": "custom"}
    assert config.on_join is on_join
    from_dict = StreamConfig.from_value(
        {"name": "todo", "schema": Todo, "baseConfig": {"storageType": "custom"}, "onJoin": on_join}
    )
    assert from_dict == config
    assert StreamConfig.from_value(config) is config


@pytest.mark.parametrize(
    ("value", "error", "fragment"),
    [
        ("todo", TypeError, "got str"),
        ({"schema": Todo}, ValueError, "needs a 'name'"),
        ({"name": ""}, ValueError, "must not be empty"),
        ({"name": 3}, TypeError, "name must be a str"),
        ({"name": "t", "schemas": Todo}, ValueError, "unknown stream config key(s) schemas"),
        ({"name": "t", "schema": "Todo"}, TypeError, "pydantic model class or a JSON Schema"),
        ({"name": "t", "schema": {"type": "nonsense"}}, TypeError, "invalid JSON Schema"),
        ({"name": "t", "baseConfig": "default"}, TypeError, "base_config must be a dict"),
        ({"name": "t", "onLeave": 1}, TypeError, "on_leave must be callable"),
        (
            {"name": "t", "on_join": print, "onJoin": print},
            TypeError,
            "both 'on_join' and 'onJoin'",
        ),
    ],
)
def test_bad_configs_are_refused_clearly(value, error, fragment):
    with pytest.raises(error) as caught:
        StreamConfig.from_value(value)
    assert fragment in str(caught.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'onjoin'"):
        StreamConfig(name="t", onjoin=print)


# --- Stream ------------------------------------------------------------------------------------


async def test_set_injects_the_id_validates_and_returns_the_item(todo):
    item = await todo.set("inbox", "t1", {"description": "write tests"})
    assert item == {"id": "t1", "description": "write tests", "done": False}
    assert await todo.get("inbox", "t1") == item


async def test_set_overrides_a_conflicting_id(todo):
    item = await todo.set("inbox", "t1", {"id": "other", "description": "x"})
    assert item["id"] == "t1"
    assert await todo.get("inbox", "other") is None


async def test_set_accepts_a_model_instance(todo):
    item = await todo.set("inbox", "t1", Todo(id="t1", description="x", done=True))
    assert item == {"id": "t1", "description": "x", "done": True}


async def test_set_refuses_invalid_data_with_field_errors(todo, store):
    with pytest.raises(SchemaValidationError) as caught:
        await todo.set("inbox", "t1", {"description": 5, "done": "maybe"})
    assert {error["path"] for error in caught.value.as_list()} == {"description", "done"}
    assert await todo.get("inbox", "t1") is None
    assert await store.list_groups("stream:todo") == []


async def test_set_refuses_a_non_object(todo):
    with pytest.raises(TypeError, match="must be an object"):
        await todo.set("inbox", "t1", ["not", "an", "object"])


async def test_json_schema_streams_validate_too(store):
    stream = Stream(StreamConfig(name="notes", schema=TODO_JSON_SCHEMA), store)
    assert await stream.set("g", "n1", {"description": "x", "extra": 1}) == {
        "id": "n1",
        "description": "x",
        "extra": 1,
    }
    with pytest.raises(SchemaValidationError, match="description"):
        await stream.set("g", "n2", {"description": 1})


async def test_streams_without_schema_store_any_object(store):
    stream = Stream(StreamConfig(name="free"), store)
    assert await stream.set("g", "a", {"anything": [1]}) == {"anything": [1], "id": "a"}


async def test_update_validates_the_result(todo):
    await todo.set("inbox", "t1", {"description": "x"})
    item = await todo.update("inbox", "t1", [{"type": "set", "path": "done", "value": True}])
    assert item == {"id": "t1", "description": "x", "done": True}
    with pytest.raises(SchemaValidationError, match="description"):
        await todo.update("inbox", "t1", [{"type": "remove", "path": "description"}])
    assert await todo.get("inbox", "t1") == item


async def test_update_keeps_the_id(todo):
    await todo.set("inbox", "t1", {"description": "x"})
    item = await todo.update("inbox", "t1", [{"type": "merge", "value": {"id": "hijack"}}])
    assert item["id"] == "t1"


async def test_update_counters_on_schema_less_stream(store):
    inbox = Stream(StreamConfig(name="inbox"), store)
    ops = [{"type": "increment", "path": "watching", "by": 1}]
    assert await inbox.update("watching", "g1", ops) == {"watching": 1, "id": "g1"}
    assert await inbox.update("watching", "g1", ops) == {"watching": 2, "id": "g1"}


async def test_delete_returns_the_item(todo):
    item = await todo.set("inbox", "t1", {"description": "x"})
    assert await todo.delete("inbox", "t1") == item
    assert await todo.delete("inbox", "t1") is None


async def test_group_listing(todo):
    await todo.set("inbox", "b", {"description": "b"})
    await todo.set("inbox", "a", {"description": "a"})
    await todo.set("done", "c", {"description": "c"})
    assert [item["id"] for item in await todo.get_group("inbox")] == ["b", "a"]
    assert await todo.list("inbox") == await todo.get_group("inbox")
    assert await todo.list_groups() == ["done", "inbox"]


async def test_writes_reach_the_feed_under_the_stream_namespace(todo, store):
    changes = []
    store.feed.subscribe(changes.append)
    await todo.set("inbox", "t1", {"description": "x"})
    await todo.delete("inbox", "t1")
    assert [(c.namespace, c.group_id, c.item_id, c.kind) for c in changes] == [
        ("stream:todo", "inbox", "t1", "create"),
        ("stream:todo", "inbox", "t1", "delete"),
    ]
    assert all(isinstance(c, Change) for c in changes)


@pytest.mark.parametrize(
    ("channel", "item_id"),
    [({"groupId": "inbox"}, None), ({"group_id": "inbox", "id": "t1"}, "t1")],
)
async def test_send_publishes_an_ephemeral_event(todo, store, channel, item_id):
    received = []
    store.feed.subscribe(received.append)
    await todo.send(channel, {"type": "typing", "data": {"user": "u"}})
    assert received == [Ephemeral("stream:todo", "inbox", item_id, "typing", {"user": "u"})]
    assert await todo.list_groups() == []


@pytest.mark.parametrize(
    ("channel", "event", "fragment"),
    [
        ({"id": "x"}, {"type": "t"}, "channel must be"),
        ("inbox", {"type": "t"}, "channel must be"),
        ({"groupId": "g", "id": 1}, {"type": "t"}, "'id' must be a str"),
        ({"groupId": "g"}, {"data": 1}, "event must be"),
        ({"groupId": "g"}, {"type": "t", "data": {1, 2}}, "cannot be stored as JSON"),
    ],
)
async def test_send_refuses_bad_channels_and_events(todo, channel, event, fragment):
    with pytest.raises(ValueError) as caught:
        await todo.send(channel, event)
    assert fragment in str(caught.value)


# --- Streams -----------------------------------------------------------------------------------


async def test_streams_by_attribute_and_by_key(store):
    streams = Streams.from_configs([StreamConfig(name="todo"), StreamConfig(name="inbox")], store)
    assert streams.todo is streams["todo"]
    assert streams.todo.name == "todo"
    assert "inbox" in streams and "nope" not in streams
    assert sorted(streams) == ["inbox", "todo"] and len(streams) == 2


async def test_unknown_stream_lists_the_known_names(store):
    streams = Streams.from_configs([StreamConfig(name="todo"), StreamConfig(name="inbox")], store)
    with pytest.raises(AttributeError, match="unknown stream 'nope'; known streams: inbox, todo"):
        streams.nope
    with pytest.raises(KeyError, match="known streams: inbox, todo"):
        streams["nope"]
    with pytest.raises(AttributeError, match="known streams: none"):
        Streams().todo
