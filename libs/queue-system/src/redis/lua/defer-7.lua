--[[
  Puts an active job back for later without spending an attempt, because this worker could
  not start it (its thread pool was full), if the caller still holds its lease. The job's
  `requeues` counter and the `thread_pool_exhaustion` metric go up.

  Input:
    KEYS[1] job hash   KEYS[2] active zset   KEYS[3] delayed zset   KEYS[4] metrics hash
    KEYS[5] wake list
    KEYS[6] specs hash   KEYS[7] leases hash
    ARGV[1] job id
    ARGV[2] lease token
    ARGV[3] due time of the next try (ms)

  Output:
    1 done; -1 the lease is not held (nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/wake-workers"

if not releaseLease(KEYS[1], KEYS[2], ARGV[1], ARGV[2], KEYS[6], KEYS[7]) then
  return -1
end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
redis.call('HINCRBY', KEYS[1], 'requeues', 1)
redis.call('HSET', KEYS[1], 'state', 'delayed')
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'thread_pool_exhaustion', 1)
wakeWorkers(KEYS[5])
return 1
