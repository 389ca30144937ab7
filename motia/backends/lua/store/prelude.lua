-- One change on the feed channel: kind, version, header, old text, new text ('' for none).
local function announce(channel, kind, version, header, old, new)
  redis.call('PUBLISH', channel,
    kind .. '\n' .. version .. '\n' .. header .. '\n' .. (old or '') .. '\n' .. (new or ''))
end

-- Item ARGV[1] of group ARGV[2] goes from ``old`` (nil: absent) to ``new``: it takes the
-- next version, a new item its place in the group, and the change goes out on channel
-- ARGV[3] with header ARGV[4]. Returns the version; storing the text is the caller's.
local function change(old, new)
  local version = redis.call('INCR', KEYS[4])
  local kind = 'update'
  if not old then
    kind = 'create'
    redis.call('ZADD', KEYS[2], version, ARGV[1])
    redis.call('SADD', KEYS[3], ARGV[2])
  end
  announce(ARGV[3], kind, version, ARGV[4], old, new)
  return version
end
