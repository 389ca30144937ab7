-- ARGV: "all" | "some", then the ids. Returns the ids made ready again.
local ids = {}
if ARGV[5] == 'all' then
  for _, entry in ipairs(redis.call('XRANGE', Q .. 'dead', '-', '+')) do
    ids[#ids + 1] = entry[2][2]
  end
else
  for i = 6, #ARGV do ids[#ids + 1] = ARGV[i] end
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
