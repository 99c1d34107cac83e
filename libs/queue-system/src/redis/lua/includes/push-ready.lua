--- @include "includes/ready-list"
--- @include "includes/tenant-ready"

-- Makes one job ready: to its tenant's ready list when it has a tenant, else to its queue's.
local function pushReady(prefix, queue, priority, tenant, command, jobId)
  if tenant and tenant ~= '' then
    pushTenantReady(prefix, queue, priority, tenant, command, { jobId }, 1, 1)
  else
    redis.call(command, readyList(prefix, queue, priority), jobId)
  end
end
