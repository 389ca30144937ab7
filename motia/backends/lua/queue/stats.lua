-- Returns {topic, depth, in_flight, retries, ...}, one row per subscriber.
local out = {}
local subs = redis.call('HGETALL', Q .. 'subs')
for i = 1, #subs, 2 do
  local sub = subs[i]
  local live = redis.call('ZCOUNT', skey(sub, 'leases'), '(' .. ARGV[2], '+inf')
  local waiting = tonumber(redis.call('HGET', skey(sub, 'meta'), 'waiting') or '0')
  local depth = redis.call('XLEN', skey(sub, 'stream')) - live
    + redis.call('ZCARD', skey(sub, 'delayed')) + waiting
  out[#out + 1] = subs[i + 1]
  out[#out + 1] = depth
  out[#out + 1] = live
  out[#out + 1] = redis.call('SCARD', skey(sub, 'retried'))
end
return out
