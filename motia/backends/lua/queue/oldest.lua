-- ARGV: sub. The due time of the oldest delivery that could be claimed now, as a string;
-- false when there is none. Looks at the head of each place such a delivery waits.
local sub = ARGV[5]
local best = nil

local function consider(id, wanted_state)
  if not id then return end
  local f = redis.call('HMGET', dkey(id), 'due', 'state')
  if not f[1] or (wanted_state and f[2] ~= wanted_state) then return end
  local due = tonumber(f[1])
  if due <= NOW and (best == nil or due < tonumber(best)) then best = f[1] end
end

-- The first stream entry the consumer group has not read yet.
local stream = skey(sub, 'stream')
if redis.call('EXISTS', stream) == 1 then
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local fields = {}
    for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
    if fields['name'] == GROUP then
      local ms, seq = string.match(fields['last-delivered-id'], '^(%d+)-(%d+)$')
      local first = redis.call('XRANGE', stream, ms .. '-' .. (tonumber(seq) + 1), '+', 'COUNT', 1)
      if first[1] then consider(first[1][2][2], 'ready') end
    end
  end
end
-- Due, but not moved into the stream until the next claim.
consider(redis.call('ZRANGEBYSCORE', skey(sub, 'delayed'), '-inf', ARGV[2], 'LIMIT', 0, 1)[1])
-- Leased by a holder whose lease ran out.
consider(redis.call('ZRANGEBYSCORE', skey(sub, 'leases'), '-inf', ARGV[2], 'LIMIT', 0, 1)[1])
return best or false
