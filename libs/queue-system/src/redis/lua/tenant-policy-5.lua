--[[
  Tenant policy: sets or clears a tenant's weight (jobs per turn in the rotation), its
  concurrency cap (jobs running at once across every process) and its rate limit (a token
  bucket of `burst` tokens refilled by `max` every `duration` ms, across every queue and
  process), read by fetch (see `includes/lease-tenants` and `includes/tenant-bucket`). A new
  rate keeps the tokens left (capped at its burst); a cleared one forgets them. A changed rate
  wakes idle workers, which may wait for a far token. Only a tenant with a cap has its running
  jobs counted in `tenant_active`: a new cap starts from the jobs of the tenant running now
  (counted from `active`), whose compact jobs get their job hash so that their ends free their
  slots, and a cleared one forgets the count.

  Input:
    KEYS[1] tenant_policy hash   KEYS[2] tenant_tokens hash   KEYS[3] wake list
    KEYS[4] active zset   KEYS[5] tenant_active hash
    ARGV[1] key prefix
    ARGV[2] tenant
    ARGV[3] weight, '' to clear it (back to 1)
    ARGV[4] concurrency cap, '' to clear it (no cap)
    ARGV[5] rate limit '<max>:<duration ms>:<burst>', '' to clear it (no limit)
  Built from the prefix:
    job hashes `job:<id>`, `specs` and `leases` (of the running jobs, when a cap is set where
    there was none)

  Output:
    1
]]
--- @include "includes/running-tenants"
--- @include "includes/wake-workers"

local prefix, tenant = ARGV[1], ARGV[2]
local rateField = 'rate:' .. tenant
local rateBefore = redis.call('HGET', KEYS[1], rateField) or ''
local capped = redis.call('HEXISTS', KEYS[1], 'concurrency:' .. tenant) == 1
local fields = { weight = ARGV[3], concurrency = ARGV[4], rate = ARGV[5] }
for name, value in pairs(fields) do
  if value == '' then
    redis.call('HDEL', KEYS[1], name .. ':' .. tenant)
  else
    redis.call('HSET', KEYS[1], name .. ':' .. tenant, value)
  end
end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[5], tenant)
elseif not capped then
  local running = runningTenants(KEYS[4], prefix .. 'specs', prefix, {}, tenant,
    prefix .. 'leases')[tenant]
  if running then
    redis.call('HSET', KEYS[5], tenant, running)
  else
    redis.call('HDEL', KEYS[5], tenant)
  end
end
if ARGV[5] == '' then
  redis.call('HDEL', KEYS[2], tenant)
end
if rateBefore ~= ARGV[5] then
  wakeWorkers(KEYS[3], 64)
end
return 1
