--- @include "includes/expand-compact-job"
--- @include "includes/lease-holder"
--- @include "includes/release-tenant-slot"

-- Gives up a running job's lease (`wakeKey`: see `release-tenant-slot`) if `token` holds it (see `lease-holder`): out of `active`,
-- token cleared, and the job hash's key is returned; otherwise nothing changes and false is
-- returned, with the job's tenant (its concurrency counts one job fewer). A compact job is
-- expanded first: every transition but fetch and ack works on job hashes alone.
local function releaseLease(prefix, jobId, token, activeKey, specsKey, leasesKey, wakeKey)
  local jobKey = prefix .. 'job:' .. jobId
  local holder = leaseHolder(token, redis.call('HGET', leasesKey, jobId), prefix .. 'job:', jobId)
  if not holder then
    return false
  end
  local tenant = holder ~= 'compact' and holder[4]
  if holder == 'compact' then
    expandCompactJob(jobKey, jobId, specsKey, leasesKey)
  end
  redis.call('ZREM', activeKey, jobId)
  redis.call('HDEL', jobKey, 'lease')
  releaseTenantSlot(prefix, tenant, wakeKey)
  return jobKey, tenant
end
