--- @include "includes/expand-compact-job"

-- Running jobs per tenant, counted from `active` (every leased job, across every process): a
-- job hash has its `tenant` field; a compact job has its spec in `specs`, whose header names
-- its tenant (see `spec-tenant`). Adds to `counts` (tenant -> running jobs), only for `only`
-- when given; with `leasesKey`, the compact jobs of `only` get their job hash (see
-- `tenant-policy-5`). Costs a read or two per running job: for inspection and policy changes,
-- never on the path of a job.
local function runningTenants(activeKey, specsKey, prefix, counts, only, leasesKey)
  local from, chunk = 0, 1000
  while true do
    local ids = redis.call('ZRANGE', activeKey, from, from + chunk - 1)
    for _, jobId in ipairs(ids) do
      local jobKey = prefix .. 'job:' .. jobId
      local tenant = redis.call('HGET', jobKey, 'tenant')
      if not tenant then
        tenant = specTenant(redis.call('HGET', specsKey, jobId))
        if tenant and leasesKey and tenant == only then
          expandCompactJob(jobKey, jobId, specsKey, leasesKey)
        end
      end
      if tenant and tenant ~= '' and (not only or tenant == only) then
        counts[tenant] = (counts[tenant] or 0) + 1
      end
    end
    if #ids < chunk then
      return counts
    end
    from = from + chunk
  end
end
