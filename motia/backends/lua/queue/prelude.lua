local Q = ARGV[1]
local NOW = tonumber(ARGV[2])
local READY_CHANNEL = ARGV[3]
local ORIGIN = ARGV[4]
local GROUP = 'motia'

local function dkey(id) return Q .. 'd:' .. id end
local function skey(sub, part) return Q .. 's:' .. sub .. ':' .. part end

-- Ready: in the stream. When ``sub`` had nothing ready before, the processes that may be
-- idle hear of it on the ready channel ("origin sub"), so none waits for its next poll.
local function to_stream(id, sub)
  local stream = skey(sub, 'stream')
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
  end
  local idle = redis.call('XLEN', stream) <= redis.call('ZCARD', skey(sub, 'leases'))
  local entry = redis.call('XADD', stream, '*', 'id', id)
  redis.call('HSET', dkey(id), 'state', 'ready', 'entry', entry)
  if idle then redis.call('PUBLISH', READY_CHANNEL, ORIGIN .. ' ' .. sub) end
end

local function make_ready(id, sub, due)
  if tonumber(due) > NOW then
    redis.call('ZADD', skey(sub, 'delayed'), due, id)
    redis.call('HSET', dkey(id), 'state', 'delayed', 'entry', '')
  else
    to_stream(id, sub)
  end
end

-- FIFO: one delivery of a message group is let through at a time, the rest wait in line.
local function enter(id, sub, group, due)
  if group ~= '' and redis.call('HGET', Q .. 'mode', sub) ~= 'standard' then
    local active = skey(sub, 'active')
    if redis.call('HEXISTS', active, group) == 1 then
      redis.call('RPUSH', skey(sub, 'waiting:' .. group), id)
      redis.call('HINCRBY', skey(sub, 'meta'), 'waiting', 1)
      redis.call('HSET', dkey(id), 'state', 'waiting', 'entry', '')
      return
    end
    redis.call('HSET', active, group, id)
  end
  make_ready(id, sub, due)
end

-- ``id`` of ``group`` is done (acked or dead): let the next one of its group through.
local function advance(id, sub, group)
  local active = skey(sub, 'active')
  if group == '' or redis.call('HGET', active, group) ~= id then return end
  local line = skey(sub, 'waiting:' .. group)
  while true do
    local nxt = redis.call('LPOP', line)
    if not nxt then
      redis.call('HDEL', active, group)
      return
    end
    redis.call('HINCRBY', skey(sub, 'meta'), 'waiting', -1)
    local due = redis.call('HGET', dkey(nxt), 'due')
    if due then
      redis.call('HSET', active, group, nxt)
      make_ready(nxt, sub, due)
      return
    end
  end
end

-- The fields of delivery ``id`` if it is leased at attempt ``attempts``, else nil.
local function held(id, attempts)
  local f = redis.call('HMGET', dkey(id), 'state', 'attempts', 'sub', 'group', 'entry')
  if f[1] ~= 'leased' or f[2] ~= attempts then return nil end
  return f
end

local function unlease(id, sub, entry)
  local stream = skey(sub, 'stream')
  redis.call('XACK', stream, GROUP, entry)
  redis.call('XDEL', stream, entry)
  redis.call('ZREM', skey(sub, 'leases'), id)
end

-- The earliest due time or lease expiry of ``sub``, as a string (now when a delivery is
-- ready); false when it has nothing.
local function next_due(sub)
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
end
