-- Running jobs per tenant, counted from `active` (every leased job, across every process): a
-- tenant's job has a job hash with its `tenant` field; a compact job has none and no tenant.
-- Adds to `counts` (tenant -> running jobs), only for `only` when given. Costs one read per
-- running job: for inspection and policy changes, never on the path of a job.
local function runningTenants(activeKey, jobPrefix, counts, only)
  local from, chunk = 0, 1000
  while true do
    local ids = redis.call('ZRANGE', activeKey, from, from + chunk - 1)
    for _, jobId in ipairs(ids) do
      local tenant = redis.call('HGET', jobPrefix .. jobId, 'tenant')
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
