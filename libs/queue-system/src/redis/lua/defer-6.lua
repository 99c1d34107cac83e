--[[
  Defers an active job, if the caller still holds its lease: back to `delayed` briefly
  without spending an attempt, because this worker could not start it (its thread pool was
  full). The job's `requeues` counter and the `thread_pool_exhaustion` metric go up.

  Input:
    KEYS[1] active zset   KEYS[2] delayed zset   KEYS[3] metrics hash   KEYS[4] wake list
    KEYS[5] specs hash    KEYS[6] leases hash
    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] lease token
    ARGV[4] due time of the next try (ms)
  Built from the prefix:
    the job hash `job:<id>`; `tenant_active`, `tenant_policy` (a tenant's job)

  Output:
    1 deferred; -1 the lease is not held (nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/wake-workers"

local jobId = ARGV[2]
local jobKey = releaseLease(ARGV[1], jobId, ARGV[3], KEYS[1], KEYS[5], KEYS[6], KEYS[4])
if not jobKey then
  return -1
end
redis.call('HINCRBY', jobKey, 'attempts', -1)
redis.call('HINCRBY', jobKey, 'requeues', 1)
redis.call('HSET', jobKey, 'state', 'delayed')
redis.call('ZADD', KEYS[2], ARGV[4], jobId)
redis.call('HINCRBY', KEYS[3], 'thread_pool_exhaustion', 1)
wakeWorkers(KEYS[4])
return 1
