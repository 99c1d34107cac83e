--[[
  Layout check: returns the layout version the namespace's data is stored in, so that a
  process of another layout refuses to run on it. A namespace without a `layout` key is
  stamped first: with the caller's version when it holds no job (new, or drained: counters
  and anchors are no jobs); with the version of data written before the key existed (ARGV[3])
  when it holds jobs.

  Input:
    KEYS[1] layout string
    ARGV[1] key prefix
    ARGV[2] the caller's layout version
    ARGV[3] the layout version of data written before the `layout` key existed
    ARGV[4..] older layout versions the caller reads as they are: a namespace stored in one is
      restamped with the caller's version, so that processes of that older layout refuse it
  Built from the prefix, read only while the namespace has no layout key:
    `active`, `delayed`, `failures`, `system_errors`, `specs`, `queues`, ready lists
    `ready:<priority>:<queue>`, tenants' rotations `rotation:<priority>:<queue>`

  Output:
    the layout version stored
]]
--- @include "includes/ready-list"

-- Whether the namespace holds jobs: running, delayed, dead-lettered, or waiting (compact in
-- `specs`, or in a ready list of a queue it knows, its own or a tenant's: a tenant with jobs
-- waiting is in its queue's rotation).
local function holdsJobs(prefix)
  if redis.call('ZCOUNT', prefix .. 'active', '-inf', '(+inf') > 0
      or redis.call('ZCARD', prefix .. 'delayed') > 0
      or redis.call('LLEN', prefix .. 'failures') > 0
      or redis.call('LLEN', prefix .. 'system_errors') > 0
      or redis.call('HLEN', prefix .. 'specs') > 0 then
    return true
  end
  for _, queue in ipairs(redis.call('SMEMBERS', prefix .. 'queues')) do
    for _, priority in ipairs({ 'high', 'normal', 'low' }) do
      if redis.call('LLEN', readyList(prefix, queue, priority)) > 0
          or redis.call('LLEN', prefix .. 'rotation:' .. priority .. ':' .. queue) > 0 then
        return true
      end
    end
  end
  return false
end

local stored = redis.call('GET', KEYS[1])
if not stored then
  stored = holdsJobs(ARGV[1]) and ARGV[3] or ARGV[2]
  redis.call('SET', KEYS[1], stored)
end
for i = 4, #ARGV do
  if stored == ARGV[i] then
    redis.call('SET', KEYS[1], ARGV[2])
    return ARGV[2]
  end
end
return stored
