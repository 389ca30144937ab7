-- ARGV[5...]: id, sub, topic, group ('' for none), due, body; repeated per delivery.
for i = 5, #ARGV, 6 do
  local id, sub, topic, group, due = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('EXISTS', dkey(id)) == 0 then
    redis.call('HSET', dkey(id), 'body', ARGV[i + 5], 'sub', sub, 'topic', topic,
      'group', group, 'attempts', 0, 'due', due)
    redis.call('HSET', Q .. 'subs', sub, topic)
    enter(id, sub, group, due)
  end
end
return #ARGV
