--[[
  One consistent snapshot of the namespace: ready counts per queue and priority, dead
  letters, delayed and active counts, and the shared metrics.

  Input:
    KEYS[1] queues set   KEYS[2] failures list   KEYS[3] system_errors list
    KEYS[4] metrics hash   KEYS[5] delayed zset   KEYS[6] active zset
    ARGV[1] key prefix
  Built from the prefix:
    ready lists `ready:<priority>:<queue>`; with tenants: `tenanted`, rotations
    `rotation:<priority>:<queue>`, tenants' ready lists `ready:<priority>:<queue>:t:<tenant>`

  Output:
    { failures, system_errors, delayed, active, metrics HGETALL,
      { queue, high, normal, low, queue, high, normal, low, ... } }
]]
--- @include "includes/ready-list"
--- @include "includes/tenants-waiting"
local prefix = ARGV[1]
local queues = redis.call('SMEMBERS', KEYS[1])
table.sort(queues)
local counts = {}
-- A tenant's waiting jobs count with their queue's (see `includes/tenant-keys`).
local tenanted, byTenant = redis.call('EXISTS', prefix .. 'tenanted') == 1, {}
for _, queue in ipairs(queues) do
  counts[#counts + 1] = queue
  for _, priority in ipairs({ 'high', 'normal', 'low' }) do
    local waiting = redis.call('LLEN', readyList(prefix, queue, priority))
    if tenanted then
      waiting = waiting + tenantsWaiting(prefix, queue, priority, byTenant)
    end
    counts[#counts + 1] = waiting
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
