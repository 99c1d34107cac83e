--[[
  Stores a running job's progress, if the caller still holds its lease. A compact job is
  expanded first: its progress is a field of its job hash, which `getJob` reads.

  Input:
    KEYS[1] specs hash    KEYS[2] leases hash
    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] lease token
    ARGV[4] the progress, as JSON
  Built from the prefix:
    the job hash `job:<id>`; `events_listen`, `events_listen_ends` and `events` (see the include job-events)

  Output:
    1 stored; -1 the lease is not held (nothing changed)
]]
--- @include "includes/expand-compact-job"
--- @include "includes/job-hash-event"
--- @include "includes/lease-holder"

local prefix = ARGV[1]
local jobId = ARGV[2]
local holder = leaseHolder(ARGV[3], redis.call('HGET', KEYS[2], jobId), prefix .. 'job:', jobId)
if not holder then
  return -1
end
local jobKey = prefix .. 'job:' .. jobId
if holder == 'compact' then
  expandCompactJob(jobKey, jobId, KEYS[1], KEYS[2])
end
redis.call('HSET', jobKey, 'progress', ARGV[4])
local cap = eventsCaps(prefix)
if cap then
  local events = {}
  addJobEvent(events, 'progress', jobKey, jobId, nil, ARGV[4])
  appendEvents(prefix, cap, events)
end
return 1
