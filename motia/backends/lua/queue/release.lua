-- ARGV: id, attempts. The attempt did not happen: back in the stream, not counted.
local id = ARGV[5]
local f = held(id, ARGV[6])
if not f then return 0 end
unlease(id, f[3], f[5])
redis.call('HINCRBY', dkey(id), 'attempts', -1)
to_stream(id, f[3])
return 1
