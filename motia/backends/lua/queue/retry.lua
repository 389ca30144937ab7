-- ARGV: id, attempts, due, error.
local id, due = ARGV[5], ARGV[7]
local f = held(id, ARGV[6])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('SADD', skey(f[3], 'retried'), id)
redis.call('HSET', dkey(id), 'due', due, 'error', ARGV[8])
make_ready(id, f[3], due)
return 1
