--[[
  Tenant policy: sets or clears a tenant's weight (jobs per turn in the rotation) and its
  concurrency cap (jobs running at once across every process), read by fetch (see
  `includes/lease-tenants`).

  Input:
    KEYS[1] tenant_policy hash
    ARGV[1] tenant
    ARGV[2] weight, '' to clear it (back to 1)
    ARGV[3] concurrency cap, '' to clear it (no cap)
  Built from the prefix:
    nothing

  Output:
    1
]]
local tenant = ARGV[1]
local fields = { weight = ARGV[2], concurrency = ARGV[3] }
for name, value in pairs(fields) do
  if value == '' then
    redis.call('HDEL', KEYS[1], name .. ':' .. tenant)
  else
    redis.call('HSET', KEYS[1], name .. ':' .. tenant, value)
  end
end
return 1
