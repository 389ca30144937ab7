-- ARGV: sub. The earliest due time or lease expiry, as a string; false when idle.
local sub = ARGV[3]
local leases = skey(sub, 'leases')
if redis.call('XLEN', skey(sub, 'stream')) > redis.call('ZCARD', leases) then
  return ARGV[2]
end
local best = nil
for _, key in ipairs({skey(sub, 'delayed'), leases}) do
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] and (best == nil or tonumber(first[2]) < tonumber(best)) then best = first[2] end
end
return best or false
