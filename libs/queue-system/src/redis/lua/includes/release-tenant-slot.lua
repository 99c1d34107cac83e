-- A lease of a tenant's job ended (ack, retry, dead letter, requeue, defer, stalled). Only a
-- tenant with a concurrency cap has its running jobs counted in `tenant_active` (see
-- `tenant-policy-5`): it counts one job fewer, and idle workers that it left waiting for this
-- slot get one wake token on `wakeKey`. Whether the namespace has any tenant policy is read
-- once per script call: without one, an ack of a tenant's job asks nothing more.
local tenantPolicies
local function releaseTenantSlot(prefix, tenant, wakeKey)
  if tenant and tenant ~= '' then
    if tenantPolicies == nil then
      tenantPolicies = redis.call('EXISTS', prefix .. 'tenant_policy') == 1
    end
    if tenantPolicies
        and redis.call('HEXISTS', prefix .. 'tenant_policy', 'concurrency:' .. tenant) == 1 then
      local key = prefix .. 'tenant_active'
      if redis.call('HINCRBY', key, tenant, -1) <= 0 then
        redis.call('HDEL', key, tenant)
      end
      redis.call('LPUSH', wakeKey, '1')
    end
  end
end
