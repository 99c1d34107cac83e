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
  -- A compact job is never counted in `tenant_active`: a capped tenant's jobs are leased with
  -- a job hash (see `lease-jobs`), and a new cap expands the tenant's running ones.
  if holder == 'compact' then
    local tenant = expandCompactJob(jobKey, jobId, specsKey, leasesKey)
    redis.call('ZREM', activeKey, jobId)
    redis.call('HDEL', jobKey, 'lease')
    return jobKey, tenant
  end
  redis.call('ZREM', activeKey, jobId)
  redis.call('HDEL', jobKey, 'lease')
  releaseTenantSlot(prefix, holder[4], wakeKey)
  return jobKey, holder[4]
end
