-- ARGV: item_id, group_id, channel, header, new text. Returns {version, old text or nil}.
local old = redis.call('HGET', KEYS[1], ARGV[1])
local version = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
local kind = 'update'
if not old then
  kind = 'create'
  redis.call('ZADD', KEYS[2], version, ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
end
redis.call('PUBLISH', ARGV[3],
  kind .. '\n' .. version .. '\n' .. ARGV[4] .. '\n' .. (old or '') .. '\n' .. ARGV[5])
return {version, old}
