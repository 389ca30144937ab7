-- ARGV: item_id, group_id, channel, header, new text. Returns {version, old text or nil}.
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
return {change(old, ARGV[5]), old}
