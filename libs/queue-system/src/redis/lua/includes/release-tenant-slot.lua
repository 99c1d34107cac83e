-- A lease of a tenant's job ended (ack, retry, dead letter, requeue, defer, stalled): one
-- job fewer counts against the tenant's concurrency. A tenant with a cap may have jobs that
-- idle workers left waiting for this slot: one wake token to `wakeKey` tells them.
-- Whether the namespace has any tenant policy, read once per script call: without one, no
-- tenant has a cap, and an ack of a tenant's job asks nothing more.
local tenantPolicies
local function releaseTenantSlot(prefix, tenant, wakeKey)
  if tenant and tenant ~= '' then
    local key = prefix .. 'tenant_active'
    if redis.call('HINCRBY', key, tenant, -1) <= 0 then
      redis.call('HDEL', key, tenant)
    end
    if tenantPolicies == nil then
      tenantPolicies = redis.call('EXISTS', prefix .. 'tenant_policy') == 1
    end
    if tenantPolicies
        and redis.call('HEXISTS', prefix .. 'tenant_policy', 'concurrency:' .. tenant) == 1 then
      redis.call('LPUSH', wakeKey, '1')
    end
  end
end
