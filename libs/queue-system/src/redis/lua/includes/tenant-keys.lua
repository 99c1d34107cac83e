-- Tenants: a job enqueued with a tenant waits in its tenant's ready list
-- `ready:<priority>:<queue>:t:<tenant>` instead of the queue's. The tenants with jobs waiting
-- for a queue and priority take turns in its rotation list `rotation:<priority>:<queue>`; a
-- tenant joins when its list goes from empty to not, and leaves when fetch finds its list
-- empty. The key `tenanted` tells fetch that the namespace has tenants at all, so that a
-- namespace without any pays one EXISTS per fetch call and nothing per job.

local function tenantReadyList(prefix, queue, priority, tenant)
  return prefix .. 'ready:' .. (priority or 'normal') .. ':' .. queue .. ':t:' .. tenant
end

local function tenantRotation(prefix, queue, priority)
  return prefix .. 'rotation:' .. (priority or 'normal') .. ':' .. queue
end
