--[[
  Tenant counts: the waiting jobs of each tenant (of one queue, or of every queue) and the
  running jobs of each tenant across every process (counted from `active`). Read only.

  Input:
    KEYS[1] queues set   KEYS[2] active zset   KEYS[3] specs hash
    ARGV[1] key prefix
    ARGV[2] queue name, '' for every queue
  Built from the prefix:
    job hashes `job:<id>` (of the running jobs), rotations `rotation:<priority>:<queue>`,
    tenants' ready lists `ready:<priority>:<queue>:t:<tenant>`

  Output:
    { { tenant, waiting, ... }, { tenant, running, ... } }
]]
--- @include "includes/running-tenants"
--- @include "includes/tenants-waiting"

local prefix = ARGV[1]
local queues = ARGV[2] ~= '' and { ARGV[2] } or redis.call('SMEMBERS', KEYS[1])
local counts = {}
for _, queue in ipairs(queues) do
  for _, priority in ipairs({ 'high', 'normal', 'low' }) do
    tenantsWaiting(prefix, queue, priority, counts)
  end
end
local function flatten(map)
  local flat = {}
  for tenant, count in pairs(map) do
    flat[#flat + 1], flat[#flat + 2] = tenant, count
  end
  return flat
end
return { flatten(counts), flatten(runningTenants(KEYS[2], KEYS[3], prefix, {})) }
