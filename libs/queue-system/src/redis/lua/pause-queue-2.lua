--[[
  Pauses or resumes a queue for every process at once: while its `paused:<queue>` gate is in
  `gates`, fetch leases none of its jobs (see `includes/queue-gates`); enqueue still stores
  them and running ones end. Resuming wakes idle workers for the jobs that waited.

  Input:
    KEYS[1] gates hash   KEYS[2] wake list
    ARGV[1] key prefix
    ARGV[2] queue name
    ARGV[3] 1 to pause, 0 to resume
  Built from the prefix:
    ready lists `ready:<priority>:<queue>` and rotations `rotation:<priority>:<queue>` (counted on resume)

  Output:
    1 the state changed; 0 it already was so
]]
--- @include "includes/wake-for-queue"

local prefix, queue = ARGV[1], ARGV[2]
local field = 'paused:' .. queue
if ARGV[3] == '1' then
  return redis.call('HSET', KEYS[1], field, 1)
end
local resumed = redis.call('HDEL', KEYS[1], field)
if resumed == 1 then
  wakeForQueue(prefix, KEYS[2], queue)
end
return resumed
