-- A lease of a tenant's job ended (ack, retry, dead letter, requeue, defer, stalled): one
-- job fewer counts against the tenant's concurrency.
local function releaseTenantSlot(prefix, tenant)
  if tenant and tenant ~= '' then
    local key = prefix .. 'tenant_active'
    if redis.call('HINCRBY', key, tenant, -1) <= 0 then
      redis.call('HDEL', key, tenant)
    end
  end
end
