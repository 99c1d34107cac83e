--[[
  Tenant policy: sets or clears a tenant's weight (jobs per turn in the rotation), its
  concurrency cap (jobs running at once across every process) and its rate limit (a token
  bucket of `burst` tokens refilled by `max` every `duration` ms, across every queue and
  process), read by fetch (see `includes/lease-tenants` and `includes/tenant-bucket`). A new
  rate keeps the tokens left (capped at its burst); a cleared one forgets them. A changed rate
  wakes idle workers, which may wait for a far token.

  Input:
    KEYS[1] tenant_policy hash   KEYS[2] tenant_tokens hash   KEYS[3] wake list
    ARGV[1] tenant
    ARGV[2] weight, '' to clear it (back to 1)
    ARGV[3] concurrency cap, '' to clear it (no cap)
    ARGV[4] rate limit '<max>:<duration ms>:<burst>', '' to clear it (no limit)
  Built from the prefix:
    nothing

  Output:
    1
]]
--- @include "includes/wake-workers"

local tenant = ARGV[1]
local rateField = 'rate:' .. tenant
local rateBefore = redis.call('HGET', KEYS[1], rateField) or ''
local fields = { weight = ARGV[2], concurrency = ARGV[3], rate = ARGV[4] }
for name, value in pairs(fields) do
  if value == '' then
    redis.call('HDEL', KEYS[1], name .. ':' .. tenant)
  else
    redis.call('HSET', KEYS[1], name .. ':' .. tenant, value)
  end
end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[2], tenant)
end
if rateBefore ~= ARGV[4] then
  wakeWorkers(KEYS[3], 64)
end
return 1
