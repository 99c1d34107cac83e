--[[
  Feeds a queue's breaker with the outcome of one of its jobs, for a processor configured with
  a breaker only. Closed: a failure counts (in `breakers`), a success resets the count; at the
  threshold the breaker opens: fetch leases none of the queue's jobs until the cool-down is
  over, then one trial job (half-open, see `includes/queue-gates`). The trial's success closes
  the breaker and wakes idle workers; its failure opens it again for a cool-down. Outcomes of
  jobs that ran while it opened change nothing.

  Input:
    KEYS[1] gates hash   KEYS[2] breakers hash   KEYS[3] wake list
    ARGV[1] key prefix
    ARGV[2] queue name
    ARGV[3] 1 the job succeeded, 0 it failed
    ARGV[4] now (ms)
    ARGV[5] consecutive failures that open the breaker
    ARGV[6] cool-down (ms)
  Built from the prefix:
    ready lists `ready:<priority>:<queue>` (counted when the breaker closes)

  Output:
    the breaker's state after this outcome: 'closed' or 'open'
]]
--- @include "includes/wake-for-queue"

local prefix, queue = ARGV[1], ARGV[2]
local field = 'breaker:' .. queue
local state = redis.call('HGET', KEYS[1], field)
local trial = state and string.sub(state, 1, 6) == 'trial:'
if ARGV[3] == '1' then
  if not state then
    redis.call('HDEL', KEYS[2], queue)
    return 'closed'
  end
  if not trial then
    return 'open'
  end
  redis.call('HDEL', KEYS[1], field)
  wakeForQueue(prefix, KEYS[3], queue)
  return 'closed'
end
if state and not trial then
  return 'open'
end
if not state and redis.call('HINCRBY', KEYS[2], queue, 1) < tonumber(ARGV[5]) then
  return 'closed'
end
redis.call('HDEL', KEYS[2], queue)
local coolDown = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], field, string.format('open:%d:%d', tonumber(ARGV[4]) + coolDown,
  coolDown))
return 'open'
