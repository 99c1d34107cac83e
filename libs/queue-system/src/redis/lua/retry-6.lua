--[[
  Schedules the next attempt of an active job whose attempt failed, if the caller still
  holds its lease. The job waits in `delayed` until its due time.

  Input:
    KEYS[1] active zset   KEYS[2] delayed zset   KEYS[3] metrics hash   KEYS[4] wake list
    KEYS[5] specs hash    KEYS[6] leases hash
    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] lease token
    ARGV[4] error message of the failed attempt
    ARGV[5] due time of the next attempt (ms)
    ARGV[6] 1 when the attempt timed out, else 0
  Built from the prefix:
    the job hash `job:<id>`; `events_listen`, `events_listen_ends` and `events` (see the include job-events);
    `tenant_active`, `tenant_policy` (a tenant's job)

  Output:
    1 retried (now in `delayed`); -1 the lease is not held (a late answer: nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/wake-workers"
--- @include "includes/job-hash-event"

local jobId = ARGV[2]
local jobKey = releaseLease(ARGV[1], jobId, ARGV[3], KEYS[1], KEYS[5], KEYS[6], KEYS[4])
if not jobKey then
  return -1
end
redis.call('HSET', jobKey, 'state', 'delayed', 'lastError', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], jobId)
redis.call('HINCRBY', KEYS[3], 'retried', 1)
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[3], 'timeouts', 1)
end
local cap = eventsCaps(ARGV[1])
if cap then
  local events = {}
  addJobEvent(events, 'retrying', jobKey, jobId, ARGV[5], ARGV[4])
  appendEvents(ARGV[1], cap, events)
end
-- A blocked worker may be waiting past this due time; make it look again.
wakeWorkers(KEYS[4])
return 1
