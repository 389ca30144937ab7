-- ARGV: id, attempts. Returns 1 when done, 0 when the attempt is no longer the holder.
local id = ARGV[5]
local f = held(id, ARGV[6])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('SREM', skey(f[3], 'retried'), id)
redis.call('DEL', dkey(id))
advance(id, f[3], f[4])
return 1
