--[[
  Moves an active job to a dead-letter list, if the caller still holds its lease:
  `failures` (retries exhausted, permanent error, budget spent) or `system_errors` (payload
  unreadable, processor unknown here). The job hash is kept for inspection and retry.

  Input:
    KEYS[1] active zset   KEYS[2] dead-letter list   KEYS[3] metrics hash   KEYS[4] specs hash
    KEYS[5] leases hash
    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] lease token
    ARGV[4] error message
    ARGV[5] now (ms)
    ARGV[6] final state: 'failed' or 'system_error'
    ARGV[7] metrics counter to increment: 'failed' or 'system_errors'
    ARGV[8] 1 when the last attempt timed out, else 0
  Built from the prefix:
    the job hash `job:<id>`, `dedup` (a job with a deduplication key), `events_listen`, `events_listen_ends` and
    `events` (see the include job-events); `tenant_active`, `tenant_policy` (a tenant's job), `wake` (a capped
    tenant's job)

  Output:
    1 dead-lettered; -1 the lease is not held (a late answer: nothing changed)
]]
--- @include "includes/release-lease"
--- @include "includes/dead-letter-job"
--- @include "includes/job-hash-event"

local prefix, jobId = ARGV[1], ARGV[2]
local jobKey = releaseLease(prefix, jobId, ARGV[3], KEYS[1], KEYS[4], KEYS[5], prefix .. 'wake')
if not jobKey then
  return -1
end
deadLetterJob(prefix, jobKey, jobId, KEYS[2], KEYS[3], ARGV[6], ARGV[7], ARGV[4], ARGV[5])
if ARGV[8] == '1' then
  redis.call('HINCRBY', KEYS[3], 'timeouts', 1)
end
local _, cap = eventsCaps(prefix)
if cap then
  local events = {}
  local list = ARGV[6] == 'failed' and 'failures' or 'system_errors'
  addJobEvent(events, 'dead-lettered', jobKey, jobId, list, ARGV[4])
  appendEvents(prefix, cap, events)
end
return 1
