--[[
  Requeues an active job, if the caller still holds its lease: back to the front of its ready
  list without spending an attempt (its worker is shutting down).

  Input:
    KEYS[1] active zset   KEYS[2] wake list   KEYS[3] specs hash   KEYS[4] leases hash
    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] lease token
    ARGV[4] the job's priority
    ARGV[5] the job's queue
  Built from the prefix:
    the job hash `job:<id>`, its ready list `ready:<priority>:<queue>`, `events_listen`, `events_listen_ends` and
    `events` (see the include job-events); with a tenant's job:
    `tenant_active`, `tenant_policy`, its rotation `rotation:<priority>:<queue>`, `tenanted`

  Output:
    1 requeued; -1 the lease is not held (nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/push-ready"
--- @include "includes/wake-workers"
--- @include "includes/job-hash-event"

local prefix, jobId = ARGV[1], ARGV[2]
local jobKey, tenant = releaseLease(prefix, jobId, ARGV[3], KEYS[1], KEYS[3], KEYS[4], KEYS[2])
if not jobKey then
  return -1
end
redis.call('HINCRBY', jobKey, 'attempts', -1)
redis.call('HSET', jobKey, 'state', 'waiting')
-- Ready lists are consumed from the right: RPUSH puts the job first in line.
pushReady(prefix, ARGV[5], ARGV[4], tenant, 'RPUSH', jobId)
wakeWorkers(KEYS[2])
local cap = eventsCaps(prefix)
if cap then
  local events = {}
  addJobEvent(events, 'requeued', jobKey, jobId)
  appendEvents(prefix, cap, events)
end
return 1
