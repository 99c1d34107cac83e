--[[
  Schedules the next attempt of an active job whose attempt failed, if the caller still
  holds its lease. The job waits in `delayed` until its due time.

  Input:
    KEYS[1] job hash   KEYS[2] active zset   KEYS[3] delayed zset   KEYS[4] metrics hash
    KEYS[5] wake list
    KEYS[6] specs hash   KEYS[7] leases hash
    ARGV[1] job id
    ARGV[2] lease token
    ARGV[3] error message of the failed attempt
    ARGV[4] due time of the next attempt (ms)
    ARGV[5] 1 when the attempt timed out, else 0

  Output:
    1 done; -1 the lease is not held (late answer: nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/wake-workers"

if not releaseLease(KEYS[1], KEYS[2], ARGV[1], ARGV[2], KEYS[6], KEYS[7]) then
  return -1
end
redis.call('HSET', KEYS[1], 'state', 'delayed', 'lastError', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'retried', 1)
if ARGV[5] == '1' then
  redis.call('HINCRBY', KEYS[4], 'timeouts', 1)
end
-- A blocked worker may be waiting past this due time; make it look again.
wakeWorkers(KEYS[5])
return 1
