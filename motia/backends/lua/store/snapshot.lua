-- Returns {version, id1, text1, id2, text2, ...} in creation order.
local out = {redis.call('GET', KEYS[4]) or '0'}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[1], id)
end
return out
