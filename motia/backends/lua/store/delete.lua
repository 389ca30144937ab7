-- ARGV: item_id, group_id, channel, header
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
local version = redis.call('INCR', KEYS[4])
announce(ARGV[3], 'delete', version, ARGV[4], old, nil)
return {version, old}
