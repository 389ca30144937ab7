-- ARGV: sub, limit, lease seconds, "fifo" | "standard".
-- Returns {next, body, attempts, due, ...}: a row for every delivery leased; ``next`` is
-- what NEXT_DUE would answer when none was ('' when some were).
local sub, limit, lease, mode = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]

local function drain_groups()
  local active = skey(sub, 'active')
  local groups = redis.call('HKEYS', active)
  for _, group in ipairs(groups) do
    local line = skey(sub, 'waiting:' .. group)
    for _, id in ipairs(redis.call('LRANGE', line, 0, -1)) do
      local due = redis.call('HGET', dkey(id), 'due')
      if due then make_ready(id, sub, due) end
    end
    redis.call('DEL', line)
  end
  redis.call('DEL', active)
  redis.call('HDEL', skey(sub, 'meta'), 'waiting')
end

local function record_mode()
  if redis.call('HGET', Q .. 'mode', sub) == mode then return end
  redis.call('HSET', Q .. 'mode', sub, mode)
  -- Messages pushed before a standard subscriber's first claim waited in line for nothing.
  if mode == 'standard' then drain_groups() end
end

local function promote_due()
  local delayed = skey(sub, 'delayed')
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', ARGV[2], 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    redis.call('ZREM', delayed, id)
    to_stream(id, sub)
  end
end

local out = {''}
local stream = skey(sub, 'stream')
local leases = skey(sub, 'leases')

local function take(id)
  local d = dkey(id)
  local attempts = redis.call('HINCRBY', d, 'attempts', 1)
  redis.call('HSET', d, 'state', 'leased')
  redis.call('ZADD', leases, tostring(NOW + lease), id)
  local f = redis.call('HMGET', d, 'body', 'due')
  out[#out + 1] = f[1]
  out[#out + 1] = tostring(attempts)
  out[#out + 1] = f[2]
end

local function finish()
  if #out == 1 then out[1] = next_due(sub) end
  return out
end

record_mode()
promote_due()
if redis.call('EXISTS', stream) == 0 then return finish() end

-- Expired leases first: whoever held them died (or is too slow) and the delivery is due again.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', ARGV[2], 'LIMIT', 0, limit)) do
  local entry = redis.call('HGET', dkey(id), 'entry')
  if entry then
    redis.call('XCLAIM', stream, GROUP, 'motia', 0, entry, 'JUSTID')
    redis.call('SADD', skey(sub, 'retried'), id)
    take(id)
  else
    redis.call('ZREM', leases, id)
  end
end

local wanted = limit - (#out - 1) / 3
if wanted > 0 then
  local read = redis.call('XREADGROUP', 'GROUP', GROUP, 'motia', 'COUNT', wanted,
    'STREAMS', stream, '>')
  if read then
    for _, entry in ipairs(read[1][2]) do
      local id = entry[2][2]
      if redis.call('HGET', dkey(id), 'state') == 'ready' then
        take(id)
      else
        redis.call('XACK', stream, GROUP, entry[1])
        redis.call('XDEL', stream, entry[1])
      end
    end
  end
end
return finish()
