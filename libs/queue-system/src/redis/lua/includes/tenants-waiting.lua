--- @include "includes/tenant-keys"

-- The waiting jobs of each tenant of a queue and priority (see `tenant-keys`), added to
-- `counts` (tenant -> waiting); returns their sum. A tenant with jobs waiting is in the
-- rotation; one found twice is counted once.
local function tenantsWaiting(prefix, queue, priority, counts)
  local sum, seen = 0, {}
  for _, tenant in ipairs(redis.call('LRANGE', tenantRotation(prefix, queue, priority), 0, -1)) do
    if not seen[tenant] then
      seen[tenant] = true
      local waiting = redis.call('LLEN', tenantReadyList(prefix, queue, priority, tenant))
      counts[tenant] = (counts[tenant] or 0) + waiting
      sum = sum + waiting
    end
  end
  return sum
end
