"""The Lua scripts that make each ``RedisQueue`` operation one atomic step on the server.

Every script starts with ``ARGV[1]``, the queue's key prefix, and ``ARGV[2]``,
the caller's clock (seconds since the epoch, the clock every ``available_at``
and lease is measured on). Keys, under that prefix, for subscriber ``S``
(``step:index``, the step percent-encoded)::

    d:{id}              hash    one delivery: body (JSON, never parsed here), sub, topic,
                                group, attempts, due, state, entry, error, failed_at, letter
    s:S:stream          stream  ready and leased deliveries (field ``id``), group "motia"
    s:S:delayed         zset    delivery ids waiting for their due time
    s:S:leases          zset    leased delivery ids by lease expiry
    s:S:retried         set     ids that failed (or lost their lease) at least once
    s:S:active          hash    FIFO: message group -> the one delivery let through
    s:S:waiting:{g}     list    FIFO: the rest of group g, oldest first
    s:S:meta            hash    ``waiting``: how many ids all those lists hold
    subs                hash    S -> topic, for stats
    mode                hash    S -> "fifo" | "standard", as its workers last claimed
    dead                stream  dead letters in the order they failed (field ``id``)

A delivery's ``state`` is one of ``waiting``, ``delayed``, ``ready``,
``leased`` or ``dead``. Floats go back to Python as strings: Redis would
truncate a Lua number to an integer.
"""

from __future__ import annotations

__all__ = [
    "ACK",
    "BURY",
    "CLAIM",
    "NEXT_DUE",
    "PUSH",
    "RELEASE",
    "REPLAY",
    "RETRY",
    "STATS",
]

_PRELUDE = """
local Q = ARGV[1]
local NOW = tonumber(ARGV[2])
local GROUP = 'motia'

local function dkey(id) return Q .. 'd:' .. id end
local function skey(sub, part) return Q .. 's:' .. sub .. ':' .. part end

local function to_stream(id, sub)
  local stream = skey(sub, 'stream')
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM')
  end
  local entry = redis.call('XADD', stream, '*', 'id', id)
  redis.call('HSET', dkey(id), 'state', 'ready', 'entry', entry)
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
"""

PUSH = (
    _PRELUDE
    + """
-- ARGV[3...]: id, sub, topic, group ('' for none), due, body; repeated per delivery.
for i = 3, #ARGV, 6 do
  local id, sub, topic, group, due = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('EXISTS', dkey(id)) == 0 then
    redis.call('HSET', dkey(id), 'body', ARGV[i + 5], 'sub', sub, 'topic', topic,
      'group', group, 'attempts', 0, 'due', due)
    redis.call('HSET', Q .. 'subs', sub, topic)
    enter(id, sub, group, due)
  end
end
return #ARGV
"""
)

CLAIM = (
    _PRELUDE
    + """
-- ARGV: sub, limit, lease seconds, "fifo" | "standard".
-- Returns {body, attempts, due, ...} for every delivery leased.
local sub, limit, lease, mode = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]

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

local out = {}
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

record_mode()
promote_due()
if redis.call('EXISTS', stream) == 0 then return out end

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

local wanted = limit - #out / 3
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
return out
"""
)

NEXT_DUE = (
    _PRELUDE
    + """
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
"""
)

ACK = (
    _PRELUDE
    + """
-- ARGV: id, attempts. Returns 1 when done, 0 when the attempt is no longer the holder.
local id = ARGV[3]
local f = held(id, ARGV[4])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('SREM', skey(f[3], 'retried'), id)
redis.call('DEL', dkey(id))
advance(id, f[3], f[4])
return 1
"""
)

RETRY = (
    _PRELUDE
    + """
-- ARGV: id, attempts, due, error.
local id, due = ARGV[3], ARGV[5]
local f = held(id, ARGV[4])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('SADD', skey(f[3], 'retried'), id)
redis.call('HSET', dkey(id), 'due', due, 'error', ARGV[6])
make_ready(id, f[3], due)
return 1
"""
)

RELEASE = (
    _PRELUDE
    + """
-- ARGV: id, attempts. The attempt did not happen: back in the stream, not counted.
local id = ARGV[3]
local f = held(id, ARGV[4])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('HINCRBY', dkey(id), 'attempts', -1)
to_stream(id, f[3])
return 1
"""
)

BURY = (
    _PRELUDE
    + """
-- ARGV: id, attempts, error.
local id = ARGV[3]
local f = held(id, ARGV[4])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('SREM', skey(f[3], 'retried'), id)
local letter = redis.call('XADD', Q .. 'dead', '*', 'id', id)
redis.call('HSET', dkey(id), 'state', 'dead', 'entry', '', 'error', ARGV[5],
  'failed_at', ARGV[2], 'letter', letter)
advance(id, f[3], f[4])
return 1
"""
)

REPLAY = (
    _PRELUDE
    + """
-- ARGV: "all" | "some", then the ids. Returns the ids made ready again.
local ids = {}
if ARGV[3] == 'all' then
  for _, entry in ipairs(redis.call('XRANGE', Q .. 'dead', '-', '+')) do
    ids[#ids + 1] = entry[2][2]
  end
else
  for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local out = {}
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', dkey(id), 'state', 'sub', 'group', 'letter')
  if f[1] == 'dead' then
    redis.call('XDEL', Q .. 'dead', f[4])
    redis.call('HSET', dkey(id), 'attempts', 0, 'due', ARGV[2], 'failed_at', '', 'letter', '')
    -- A replayed FIFO message joins the end of its group's line.
    enter(id, f[2], f[3], ARGV[2])
    out[#out + 1] = id
  end
end
return out
"""
)

STATS = (
    _PRELUDE
    + """
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
"""
)
