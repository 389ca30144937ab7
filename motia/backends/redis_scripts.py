"""The Lua scripts that make each ``RedisStore`` write one atomic step on the server.

Every write script bumps the store-wide version (``INCR``) and publishes the
change in the same script, so the order of versions and the order of messages
on the feed channel agree. Keys, in this order, for every script::

    KEYS[1] items   hash   item_id -> JSON text
    KEYS[2] order   zset   item_id scored by the version that created it
    KEYS[3] groups  set    group ids of the namespace that hold items
    KEYS[4] version string the store-wide version

A published change is five lines: kind, version, ``[namespace, group_id,
item_id]`` as JSON, the old JSON text and the new one (empty when absent).
JSON text written by ``dump_json`` never holds a raw newline.
"""

from __future__ import annotations

__all__ = ["CLEAR", "DELETE", "SNAPSHOT", "WRITE"]

WRITE = """
-- ARGV: item_id, group_id, channel, header, new text, "set" | "cas", expected
-- expected is "" for an absent item, else "v" .. its current text.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[6] == 'cas' then
  local current = old and ('v' .. old) or ''
  if current ~= ARGV[7] then return {-1} end
end
local version = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
local kind = 'update'
if not old then
  kind = 'create'
  redis.call('ZADD', KEYS[2], version, ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
end
redis.call('PUBLISH', ARGV[3],
  kind .. '\\n' .. version .. '\\n' .. ARGV[4] .. '\\n' .. (old or '') .. '\\n' .. ARGV[5])
return {version, old}
"""

DELETE = """
-- ARGV: item_id, group_id, channel, header
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
local version = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[3], 'delete\\n' .. version .. '\\n' .. ARGV[4] .. '\\n' .. old .. '\\n')
return {version, old}
"""

CLEAR = """
-- ARGV: group_id, channel, header prefix (the header without its item id and "]")
-- Returns {last version, id1, old1, id2, old2, ...}; {} when the group is empty.
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
if #ids == 0 then return {} end
local last = redis.call('INCRBY', KEYS[4], #ids)
local first = last - #ids
local out = {last}
for index, id in ipairs(ids) do
  local old = redis.call('HGET', KEYS[1], id)
  local header = ARGV[3] .. cjson.encode(id) .. ']'
  redis.call('PUBLISH', ARGV[2],
    'delete\\n' .. (first + index) .. '\\n' .. header .. '\\n' .. old .. '\\n')
  out[#out + 1] = id
  out[#out + 1] = old
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return out
"""

SNAPSHOT = """
-- Returns {version, id1, text1, id2, text2, ...} in creation order.
local out = {redis.call('GET', KEYS[4]) or '0'}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[1], id)
end
return out
"""
