--[[
  One consistent snapshot of the namespace: ready counts per queue and priority, dead
  letters, delayed and active counts, and the shared metrics.

  Input:
    KEYS[1] queues set   KEYS[2] failures list   KEYS[3] system_errors list
    KEYS[4] metrics hash   KEYS[5] delayed zset   KEYS[6] active zset
    ARGV[1] key prefix
  Built from the prefix:
    ready lists `ready:<priority>:<queue>`

  Output:
    { failures, system_errors, delayed, active, metrics HGETALL,
      { queue, high, normal, low, queue, high, normal, low, ... } }
]]
--- @include "includes/ready-list"
local prefix = ARGV[1]
local queues = redis.call('SMEMBERS', KEYS[1])
table.sort(queues)
local counts = {}
for _, queue in ipairs(queues) do
  counts[#counts + 1] = queue
  for _, priority in ipairs({ 'high', 'normal', 'low' }) do
    counts[#counts + 1] = redis.call('LLEN', readyList(prefix, queue, priority))
  end
end
return {
  redis.call('LLEN', KEYS[2]),
  redis.call('LLEN', KEYS[3]),
  redis.call('ZCARD', KEYS[5]),
  -- Deadlines are finite: the entry at +inf is no job (see `includes/listpack-anchor`).
  redis.call('ZCOUNT', KEYS[6], '-inf', '(+inf'),
  redis.call('HGETALL', KEYS[4]),
  counts,
}
