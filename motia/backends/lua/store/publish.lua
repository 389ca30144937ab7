-- Publishes an ephemeral event placed after the current version: KEYS[1] the version,
-- KEYS[2] the count of events sent so far; ARGV: channel, the event's JSON fields.
-- Stamped and published in one script, so positions follow the channel's order.
local version = redis.call('GET', KEYS[1]) or '0'
local seq = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], 'event\n' .. version .. '\n' .. seq .. '\n' .. ARGV[2])
return seq
