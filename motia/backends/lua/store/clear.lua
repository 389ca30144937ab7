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
  announce(ARGV[2], 'delete', first + index, header, old, nil)
  out[#out + 1] = id
  out[#out + 1] = old
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return out
