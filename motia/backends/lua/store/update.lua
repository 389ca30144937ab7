-- ARGV: item_id, group_id, channel, header, expected, then one new text per update.
-- expected is "" for an absent item, else "v" .. its current text. Writes the new texts
-- one after the other, each a change of its own with the next version, when the item is
-- still as expected. Returns {last version}; {-1, current text or nil} when it is not.
local old = redis.call('HGET', KEYS[1], ARGV[1])
local current = old and ('v' .. old) or ''
if current ~= ARGV[5] then return {-1, old} end
local version
for i = 6, #ARGV do
  version = change(old, ARGV[i])
  old = ARGV[i]
end
redis.call('HSET', KEYS[1], ARGV[1], old)
return {version}
