-- ARGV: id, attempts, error.
local id = ARGV[5]
local f = held(id, ARGV[6])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('SREM', skey(f[3], 'retried'), id)
local letter = redis.call('XADD', Q .. 'dead', '*', 'id', id)
redis.call('HSET', dkey(id), 'state', 'dead', 'entry', '', 'error', ARGV[7],
  'failed_at', ARGV[2], 'letter', letter)
advance(id, f[3], f[4])
return 1
